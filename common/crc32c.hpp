#pragma once
// CRC32C (Castagnoli), as used by iSCSI digests (RFC 7143 §13.1) and VHDX checksums (MS-VHDX §2.2).
// Uses the SSE4.2 CRC32 instruction when the CPU has it, a slicing table otherwise.
#include <cstddef>
#include <cstdint>
#include <span>

namespace bootherd {

// Continues a running CRC: pass the previous result as `crc` (start with 0).
std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t crc = 0) noexcept;

inline std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0) noexcept {
    return crc32c(std::span<const std::byte>(static_cast<const std::byte*>(data), size), crc);
}

// True when the hardware path is in use (reported by `bootherd version`, asserted by nothing).
bool crc32c_is_hardware() noexcept;

}  // namespace bootherd
