#pragma once
// The VHDX metadata log (MS-VHDX 2.3): building entries for the writer, and finding and decoding the active
// sequence of a file whose header carries a LogGuid. Decoding treats the log as untrusted bytes.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "imagestore/byte_source.hpp"
#include "imagestore/guid.hpp"
#include "imagestore/vhdx_format.hpp"

namespace bootherd::imagestore::vhdx {

inline constexpr std::size_t kLogSector = 4096;

// One 4 KiB metadata page and where it belongs in the file.
struct LogPage {
    std::uint64_t file_offset = 0;
    std::array<std::byte, kLogSector> data{};
};

struct LogEntryFields {
    Guid log_guid;
    std::uint64_t sequence = 0;
    std::uint32_t tail = 0;  // offset in the log of the first entry of this entry's sequence
    std::uint64_t flushed_file_offset = 0;
    std::uint64_t last_file_offset = 0;
};

std::size_t log_entry_size(std::size_t page_count);
std::vector<std::byte> build_log_entry(const LogEntryFields& fields, std::span<const LogPage> pages);

// A write the replay performs: a data page, or zeros over zero_length bytes.
struct LogWrite {
    std::uint64_t file_offset = 0;
    std::uint64_t zero_length = 0;  // non-zero for a zero descriptor
    std::array<std::byte, kLogSector> data{};
};

struct LogReplay {
    std::vector<LogWrite> writes;  // in log order
    std::uint64_t flushed_file_offset = 0;
    std::uint64_t last_file_offset = 0;
    std::uint64_t last_sequence = 0;
};

// The active sequence of the log described by `header`, or nullopt when no valid entry carries its LogGuid.
// Throws FormatError when the active sequence is unusable (for instance, points outside the file).
std::optional<LogReplay> find_active_log(const ByteSource& src, const Header& header);

}  // namespace bootherd::imagestore::vhdx
