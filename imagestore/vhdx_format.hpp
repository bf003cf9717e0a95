#pragma once
// MS-VHDX on-disk structures: constants, the parsers of untrusted bytes (one per structure, every length
// checked) and the serialisers used when writing. Parsers throw FormatError describing the problem.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "imagestore/byte_source.hpp"
#include "imagestore/guid.hpp"

namespace bootherd::imagestore::vhdx {

inline constexpr std::uint64_t kMiB = 1024 * 1024;
inline constexpr std::uint64_t kHeaderOffsets[2] = {64 * 1024, 128 * 1024};
inline constexpr std::uint64_t kRegionTableOffsets[2] = {192 * 1024, 256 * 1024};
inline constexpr std::size_t kHeaderSize = 4096;
inline constexpr std::size_t kRegionTableSize = 64 * 1024;
inline constexpr std::size_t kMetadataTableSize = 64 * 1024;
inline constexpr std::uint64_t kMaxVirtualSize = 64ull << 40;
inline constexpr std::uint64_t kSectorsPerBitmapBlock = 1ull << 23;  // bits in one 1 MiB bitmap block

inline constexpr Guid kBatRegion =
    Guid::from_fields(0x2dc27766, 0xf623, 0x4200, {0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08});
inline constexpr Guid kMetadataRegion =
    Guid::from_fields(0x8b7ca206, 0x4790, 0x4b9a, {0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e});
inline constexpr Guid kFileParameters =
    Guid::from_fields(0xcaa16737, 0xfa36, 0x4d43, {0xb3, 0xb6, 0x33, 0xf0, 0xaa, 0x44, 0xe7, 0x6b});
inline constexpr Guid kVirtualDiskSize =
    Guid::from_fields(0x2fa54224, 0xcd1b, 0x4876, {0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8});
inline constexpr Guid kPage83Data =
    Guid::from_fields(0xbeca12ab, 0xb2e6, 0x4523, {0x93, 0xef, 0xc3, 0x09, 0xe0, 0x00, 0xc7, 0x46});
inline constexpr Guid kLogicalSectorSize =
    Guid::from_fields(0x8141bf1d, 0xa96f, 0x4709, {0xba, 0x47, 0xf2, 0x33, 0xa8, 0xfa, 0xab, 0x5f});
inline constexpr Guid kPhysicalSectorSize =
    Guid::from_fields(0xcda348c7, 0x445d, 0x4471, {0x9c, 0xc9, 0xe9, 0x88, 0x52, 0x51, 0xc5, 0x56});
inline constexpr Guid kParentLocator =
    Guid::from_fields(0xa8d35f2d, 0xb30b, 0x454d, {0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c});
inline constexpr Guid kVhdxParentLocatorType =
    Guid::from_fields(0xb04aefb7, 0xd19e, 0x4a81, {0xb7, 0x89, 0x25, 0xb8, 0xe9, 0x44, 0x59, 0x13});

enum class PayloadState : std::uint8_t {
    not_present = 0,
    undefined = 1,
    zero = 2,
    unmapped = 3,
    fully_present = 6,
    partially_present = 7,
};
inline constexpr std::uint8_t kBitmapPresent = 6;

inline constexpr std::uint8_t bat_state(std::uint64_t entry) {
    return static_cast<std::uint8_t>(entry & 7);
}
inline constexpr std::uint64_t bat_offset(std::uint64_t entry) {
    return (entry >> 20) << 20;
}
inline constexpr std::uint64_t make_bat_entry(std::uint8_t state, std::uint64_t file_offset) {
    return (file_offset & ~(kMiB - 1)) | state;
}

struct Header {
    std::uint64_t sequence = 0;
    Guid file_write;
    Guid data_write;
    Guid log;
    std::uint16_t log_version = 0;
    std::uint16_t version = 1;
    std::uint32_t log_length = 0;
    std::uint64_t log_offset = 0;
};

struct CurrentHeader {
    Header header;
    int slot = 0;  // 0: the header at 64 KiB, 1: at 128 KiB
};

struct Region {
    Guid id;
    std::uint64_t offset = 0;
    std::uint32_t length = 0;
    bool required = false;
};

struct ParentLocator {
    std::vector<std::pair<std::string, std::string>> entries;
    const std::string* find(const std::string& key) const;
};

struct Metadata {
    std::uint32_t block_size = 0;
    bool leave_blocks_allocated = false;
    bool has_parent = false;
    std::uint64_t virtual_size = 0;
    std::uint32_t logical_sector = 0;
    std::uint32_t physical_sector = 0;
    std::array<std::byte, 16> page83{};
    std::optional<ParentLocator> parent;
};

// Derived BAT geometry (MS-VHDX 2.5).
struct BatGeometry {
    std::uint64_t chunk_ratio = 0;
    std::uint64_t payload_blocks = 0;
    std::uint64_t chunks = 0;  // sector bitmap blocks
    std::uint64_t entries = 0;
    std::uint64_t sectors_per_block = 0;

    static BatGeometry compute(const Metadata& meta);
    std::uint64_t payload_index(std::uint64_t block) const { return block + block / chunk_ratio; }
    std::uint64_t bitmap_index(std::uint64_t chunk) const { return chunk * (chunk_ratio + 1) + chunk_ratio; }
};

// Everything a reader needs, parsed and cross-checked.
struct Layout {
    CurrentHeader current;
    Region bat_region;
    Region metadata_region;
    Metadata meta;
    BatGeometry geo;
    std::vector<std::uint64_t> bat;
};

// The file identifier at offset 0; throws unless it says "vhdxfile".
void check_file_identifier(const ByteSource& src);
// Picks the valid header with the higher sequence number; throws when neither is valid.
CurrentHeader read_current_header(const ByteSource& src);
// Region table, metadata and BAT of a file whose log has been replayed (header.log is ignored here).
Layout read_layout(const ByteSource& src, const CurrentHeader& current);

std::optional<Header> parse_header(std::span<const std::byte, kHeaderSize> bytes);
std::vector<Region> parse_region_table(std::span<const std::byte, kRegionTableSize> bytes);
Metadata parse_metadata(std::span<const std::byte> region);
ParentLocator parse_parent_locator(std::span<const std::byte> item);

void serialize_file_identifier(std::span<std::byte> out);  // 64 KiB
void serialize_header(const Header& header, std::span<std::byte, kHeaderSize> out);
void serialize_region_table(std::span<const Region> regions, std::span<std::byte, kRegionTableSize> out);
std::vector<std::byte> serialize_metadata(const Metadata& meta);  // the whole 1 MiB metadata region

}  // namespace bootherd::imagestore::vhdx
