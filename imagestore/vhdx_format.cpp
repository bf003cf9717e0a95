#include "imagestore/vhdx_format.hpp"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "common/bytes.hpp"
#include "common/crc32c.hpp"
#include "imagestore/image_error.hpp"
#include "imagestore/utf16.hpp"

namespace bootherd::imagestore::vhdx {

namespace {

constexpr std::uint32_t kHeadSignature = 0x64616568;                 // "head"
constexpr std::uint32_t kRegiSignature = 0x69676572;                 // "regi"
constexpr std::uint64_t kMetadataSignature = 0x617461646174656dull;  // "metadata"
constexpr std::uint32_t kMaxTableEntries = 2047;
constexpr std::uint32_t kMetaIsVirtualDisk = 2;
constexpr std::uint32_t kMetaIsRequired = 4;

template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
    std::ostringstream msg;
    (msg << ... << parts);
    throw FormatError(msg.str());
}

// CRC32C over a structure whose checksum field (at offset 4) counts as zero.
std::uint32_t checksum_with_hole(std::span<const std::byte> bytes) {
    static constexpr std::byte kZero[4]{};
    std::uint32_t crc = crc32c(bytes.first(4));
    crc = crc32c(std::span<const std::byte>(kZero, 4), crc);
    return crc32c(bytes.subspan(8), crc);
}

bool is_power_of_two(std::uint64_t v) {
    return v != 0 && (v & (v - 1)) == 0;
}

}  // namespace

const std::string* ParentLocator::find(const std::string& key) const {
    for (const auto& [k, v] : entries)
        if (k == key) return &v;
    return nullptr;
}

BatGeometry BatGeometry::compute(const Metadata& meta) {
    BatGeometry g;
    g.chunk_ratio = kSectorsPerBitmapBlock * meta.logical_sector / meta.block_size;
    g.sectors_per_block = meta.block_size / meta.logical_sector;
    g.payload_blocks = (meta.virtual_size + meta.block_size - 1) / meta.block_size;
    g.chunks = (g.payload_blocks + g.chunk_ratio - 1) / g.chunk_ratio;
    if (meta.has_parent)
        g.entries = g.chunks * (g.chunk_ratio + 1);
    else
        g.entries = g.payload_blocks + (g.payload_blocks - 1) / g.chunk_ratio;
    return g;
}

void check_file_identifier(const ByteSource& src) {
    std::array<std::byte, 8> sig{};
    src.read_exact(0, sig);
    if (std::memcmp(sig.data(), "vhdxfile", 8) != 0) fail("not a VHDX file (no \"vhdxfile\" identifier)");
}

std::optional<Header> parse_header(std::span<const std::byte, kHeaderSize> b) {
    if (load_le<std::uint32_t>(b.data()) != kHeadSignature) return std::nullopt;
    if (load_le<std::uint32_t>(b.data() + 4) != checksum_with_hole(b)) return std::nullopt;
    Header h;
    h.sequence = load_le<std::uint64_t>(b.data() + 8);
    h.file_write = Guid::load(b.data() + 16);
    h.data_write = Guid::load(b.data() + 32);
    h.log = Guid::load(b.data() + 48);
    h.log_version = load_le<std::uint16_t>(b.data() + 64);
    h.version = load_le<std::uint16_t>(b.data() + 66);
    h.log_length = load_le<std::uint32_t>(b.data() + 68);
    h.log_offset = load_le<std::uint64_t>(b.data() + 72);
    return h;
}

void serialize_header(const Header& h, std::span<std::byte, kHeaderSize> b) {
    std::fill(b.begin(), b.end(), std::byte{0});
    store_le<std::uint32_t>(b.data(), kHeadSignature);
    store_le<std::uint64_t>(b.data() + 8, h.sequence);
    h.file_write.store(b.data() + 16);
    h.data_write.store(b.data() + 32);
    h.log.store(b.data() + 48);
    store_le<std::uint16_t>(b.data() + 64, h.log_version);
    store_le<std::uint16_t>(b.data() + 66, h.version);
    store_le<std::uint32_t>(b.data() + 68, h.log_length);
    store_le<std::uint64_t>(b.data() + 72, h.log_offset);
    store_le<std::uint32_t>(b.data() + 4, checksum_with_hole(b));
}

CurrentHeader read_current_header(const ByteSource& src) {
    std::optional<Header> headers[2];
    for (int i = 0; i < 2; ++i) {
        std::array<std::byte, kHeaderSize> buf{};
        src.read_exact(kHeaderOffsets[i], buf);
        headers[i] = parse_header(buf);
    }
    if (!headers[0] && !headers[1]) fail("both headers are invalid (bad signature or checksum)");
    CurrentHeader cur;
    cur.slot = !headers[0] ? 1 : !headers[1] ? 0 : (headers[1]->sequence > headers[0]->sequence ? 1 : 0);
    cur.header = *headers[cur.slot];
    const Header& h = cur.header;
    if (h.version != 1) fail("unsupported VHDX version ", h.version);
    if (h.log_version != 0) fail("unsupported log version ", h.log_version);
    if (h.log_offset % kMiB != 0 || h.log_length % kMiB != 0) fail("log region is not 1 MiB aligned");
    if (h.log_length != 0 && h.log_offset < kMiB) fail("log region overlaps the header section");
    return cur;
}

std::vector<Region> parse_region_table(std::span<const std::byte, kRegionTableSize> b) {
    if (load_le<std::uint32_t>(b.data()) != kRegiSignature) fail("region table has a bad signature");
    if (load_le<std::uint32_t>(b.data() + 4) != checksum_with_hole(b)) fail("region table checksum mismatch");
    std::uint32_t count = load_le<std::uint32_t>(b.data() + 8);
    if (count > kMaxTableEntries) fail("region table has ", count, " entries (at most 2047 allowed)");
    std::vector<Region> regions;
    for (std::uint32_t i = 0; i < count; ++i) {
        const std::byte* e = b.data() + 16 + 32 * i;
        Region r;
        r.id = Guid::load(e);
        r.offset = load_le<std::uint64_t>(e + 16);
        r.length = load_le<std::uint32_t>(e + 24);
        r.required = (load_le<std::uint32_t>(e + 28) & 1) != 0;
        regions.push_back(r);
    }
    return regions;
}

void serialize_region_table(std::span<const Region> regions, std::span<std::byte, kRegionTableSize> b) {
    std::fill(b.begin(), b.end(), std::byte{0});
    store_le<std::uint32_t>(b.data(), kRegiSignature);
    store_le<std::uint32_t>(b.data() + 8, static_cast<std::uint32_t>(regions.size()));
    for (std::size_t i = 0; i < regions.size(); ++i) {
        std::byte* e = b.data() + 16 + 32 * i;
        regions[i].id.store(e);
        store_le<std::uint64_t>(e + 16, regions[i].offset);
        store_le<std::uint32_t>(e + 24, regions[i].length);
        store_le<std::uint32_t>(e + 28, regions[i].required ? 1u : 0u);
    }
    store_le<std::uint32_t>(b.data() + 4, checksum_with_hole(b));
}

ParentLocator parse_parent_locator(std::span<const std::byte> item) {
    if (item.size() < 20) fail("parent locator is too short");
    if (Guid::load(item.data()) != kVhdxParentLocatorType) fail("parent locator has an unknown locator type");
    std::uint16_t count = load_le<std::uint16_t>(item.data() + 18);
    if (20 + std::size_t{count} * 12 > item.size()) fail("parent locator entries run past the item");
    ParentLocator loc;
    for (std::size_t i = 0; i < count; ++i) {
        const std::byte* e = item.data() + 20 + 12 * i;
        std::uint64_t key_off = load_le<std::uint32_t>(e);
        std::uint64_t value_off = load_le<std::uint32_t>(e + 4);
        std::uint64_t key_len = load_le<std::uint16_t>(e + 8);
        std::uint64_t value_len = load_le<std::uint16_t>(e + 10);
        if (key_len == 0 || value_len == 0 || key_off + key_len > item.size() ||
            value_off + value_len > item.size())
            fail("parent locator entry ", i, " lies outside the item");
        auto key = utf16_to_utf8(item.subspan(key_off, key_len), Utf16Order::little);
        auto value = utf16_to_utf8(item.subspan(value_off, value_len), Utf16Order::little);
        if (!key || !value) fail("parent locator entry ", i, " is not valid UTF-16");
        loc.entries.emplace_back(std::move(*key), std::move(*value));
    }
    return loc;
}

Metadata parse_metadata(std::span<const std::byte> region) {
    if (region.size() < kMetadataTableSize) fail("metadata region is smaller than its table");
    if (load_le<std::uint64_t>(region.data()) != kMetadataSignature)
        fail("metadata table has a bad signature");
    std::uint16_t count = load_le<std::uint16_t>(region.data() + 10);
    if (count > kMaxTableEntries) fail("metadata table has ", count, " entries (at most 2047 allowed)");
    Metadata m;
    bool seen_params = false, seen_size = false, seen_logical = false, seen_physical = false,
         seen_page83 = false;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> extents;
    for (std::size_t i = 0; i < count; ++i) {
        const std::byte* e = region.data() + 32 + 32 * i;
        Guid id = Guid::load(e);
        std::uint64_t off = load_le<std::uint32_t>(e + 16);
        std::uint64_t len = load_le<std::uint32_t>(e + 20);
        std::uint32_t flags = load_le<std::uint32_t>(e + 24);
        if (len != 0 && (off < kMetadataTableSize || off + len > region.size()))
            fail("metadata item ", id.to_string(), " lies outside the metadata region");
        for (auto [o, l] : extents)
            if (len != 0 && off < o + l && o < off + len) fail("metadata items overlap at offset ", off);
        if (len != 0) extents.emplace_back(off, len);
        auto item = region.subspan(off, len);
        auto need = [&](std::size_t n, const char* what) {
            if (len < n) fail("metadata item ", what, " is too short (", len, " bytes)");
        };
        if (id == kFileParameters) {
            need(8, "File Parameters");
            m.block_size = load_le<std::uint32_t>(item.data());
            std::uint32_t bits = load_le<std::uint32_t>(item.data() + 4);
            m.leave_blocks_allocated = (bits & 1) != 0;
            m.has_parent = (bits & 2) != 0;
            seen_params = true;
        } else if (id == kVirtualDiskSize) {
            need(8, "Virtual Disk Size");
            m.virtual_size = load_le<std::uint64_t>(item.data());
            seen_size = true;
        } else if (id == kLogicalSectorSize) {
            need(4, "Logical Sector Size");
            m.logical_sector = load_le<std::uint32_t>(item.data());
            seen_logical = true;
        } else if (id == kPhysicalSectorSize) {
            need(4, "Physical Sector Size");
            m.physical_sector = load_le<std::uint32_t>(item.data());
            seen_physical = true;
        } else if (id == kPage83Data) {
            need(16, "Page 83 Data");
            std::memcpy(m.page83.data(), item.data(), 16);
            seen_page83 = true;
        } else if (id == kParentLocator) {
            m.parent = parse_parent_locator(item);
        } else if ((flags & kMetaIsRequired) != 0) {
            fail("unsupported required metadata item ", id.to_string());
        }
    }
    if (!seen_params || !seen_size || !seen_logical || !seen_physical || !seen_page83)
        fail("a required metadata item is missing");
    if (!is_power_of_two(m.block_size) || m.block_size < kMiB || m.block_size > 256 * kMiB)
        fail("block size ", m.block_size, " is not a power of two between 1 MiB and 256 MiB");
    if (m.logical_sector != 512 && m.logical_sector != 4096)
        fail("logical sector size ", m.logical_sector, " is invalid");
    if (m.physical_sector != 512 && m.physical_sector != 4096)
        fail("physical sector size ", m.physical_sector, " is invalid");
    if (m.virtual_size == 0 || m.virtual_size % m.logical_sector != 0 || m.virtual_size > kMaxVirtualSize)
        fail("virtual disk size ", m.virtual_size, " is invalid");
    if (m.has_parent && !m.parent) fail("differencing disk without a parent locator");
    return m;
}

std::vector<std::byte> serialize_metadata(const Metadata& m) {
    std::vector<std::byte> region(kMiB);
    store_le<std::uint64_t>(region.data(), kMetadataSignature);
    struct Item {
        Guid id;
        std::vector<std::byte> data;
        std::uint32_t flags;
    };
    std::vector<Item> items;
    auto bytes_of = [](auto... values) {
        std::vector<std::byte> out;
        (
            [&](auto v) {
                std::size_t at = out.size();
                out.resize(at + sizeof v);
                store_le(out.data() + at, v);
            }(values),
            ...);
        return out;
    };
    items.push_back({kFileParameters,
                     bytes_of(m.block_size, static_cast<std::uint32_t>((m.leave_blocks_allocated ? 1u : 0u) |
                                                                       (m.has_parent ? 2u : 0u))),
                     kMetaIsRequired});
    items.push_back({kVirtualDiskSize, bytes_of(m.virtual_size), kMetaIsRequired | kMetaIsVirtualDisk});
    items.push_back({kPage83Data, std::vector<std::byte>(m.page83.begin(), m.page83.end()),
                     kMetaIsRequired | kMetaIsVirtualDisk});
    items.push_back({kLogicalSectorSize, bytes_of(m.logical_sector), kMetaIsRequired | kMetaIsVirtualDisk});
    items.push_back({kPhysicalSectorSize, bytes_of(m.physical_sector), kMetaIsRequired | kMetaIsVirtualDisk});
    if (m.parent) {
        const auto& entries = m.parent->entries;
        std::vector<std::byte> loc(20 + 12 * entries.size());
        kVhdxParentLocatorType.store(loc.data());
        store_le<std::uint16_t>(loc.data() + 18, static_cast<std::uint16_t>(entries.size()));
        for (std::size_t i = 0; i < entries.size(); ++i) {
            auto key = utf8_to_utf16le(entries[i].first);
            auto value = utf8_to_utf16le(entries[i].second);
            std::byte* e = loc.data() + 20 + 12 * i;
            store_le<std::uint32_t>(e, static_cast<std::uint32_t>(loc.size()));
            store_le<std::uint16_t>(e + 8, static_cast<std::uint16_t>(key.size()));
            loc.insert(loc.end(), key.begin(), key.end());
            e = loc.data() + 20 + 12 * i;  // insert may have moved the buffer
            store_le<std::uint32_t>(e + 4, static_cast<std::uint32_t>(loc.size()));
            store_le<std::uint16_t>(e + 10, static_cast<std::uint16_t>(value.size()));
            loc.insert(loc.end(), value.begin(), value.end());
        }
        items.push_back({kParentLocator, std::move(loc), kMetaIsRequired});
    }
    store_le<std::uint16_t>(region.data() + 10, static_cast<std::uint16_t>(items.size()));
    std::size_t data_at = kMetadataTableSize;
    for (std::size_t i = 0; i < items.size(); ++i) {
        std::byte* e = region.data() + 32 + 32 * i;
        items[i].id.store(e);
        store_le<std::uint32_t>(e + 16, static_cast<std::uint32_t>(data_at));
        store_le<std::uint32_t>(e + 20, static_cast<std::uint32_t>(items[i].data.size()));
        store_le<std::uint32_t>(e + 24, items[i].flags);
        std::memcpy(region.data() + data_at, items[i].data.data(), items[i].data.size());
        data_at += (items[i].data.size() + 7) & ~std::size_t{7};
    }
    return region;
}

void serialize_file_identifier(std::span<std::byte> out) {
    std::fill(out.begin(), out.end(), std::byte{0});
    std::memcpy(out.data(), "vhdxfile", 8);
    auto creator = utf8_to_utf16le("bootherd");
    std::memcpy(out.data() + 8, creator.data(), creator.size());
}

Layout read_layout(const ByteSource& src, const CurrentHeader& current) {
    Layout lay;
    lay.current = current;
    const std::uint64_t file_size = src.size();

    std::vector<Region> regions;
    std::string first_problem;
    for (std::uint64_t at : kRegionTableOffsets) {
        std::array<std::byte, kRegionTableSize> buf{};
        src.read_exact(at, buf);
        try {
            regions = parse_region_table(buf);
            first_problem.clear();
            break;
        } catch (const FormatError& e) {
            if (first_problem.empty()) first_problem = e.what();
        }
    }
    if (!first_problem.empty()) fail("both region tables are invalid: ", first_problem);

    bool have_bat = false, have_meta = false;
    for (const Region& r : regions) {
        if (r.id == kBatRegion) {
            lay.bat_region = r;
            have_bat = true;
        } else if (r.id == kMetadataRegion) {
            lay.metadata_region = r;
            have_meta = true;
        } else if (r.required) {
            fail("unsupported required region ", r.id.to_string());
        }
    }
    if (!have_bat || !have_meta) fail("region table lacks the ", have_bat ? "metadata" : "BAT", " region");

    // Every region: 1 MiB aligned, past the header section, inside the file, disjoint from the others.
    struct Extent {
        const char* name;
        std::uint64_t offset, length;
    };
    std::vector<Extent> extents{{"BAT", lay.bat_region.offset, lay.bat_region.length},
                                {"metadata", lay.metadata_region.offset, lay.metadata_region.length}};
    if (current.header.log_length != 0)
        extents.push_back({"log", current.header.log_offset, current.header.log_length});
    for (std::size_t i = 0; i < extents.size(); ++i) {
        const Extent& a = extents[i];
        if (a.offset % kMiB != 0 || a.offset < kMiB || a.length == 0)
            fail(a.name, " region at offset ", a.offset, " is not 1 MiB aligned after the header section");
        if (a.offset > file_size || a.length > file_size - a.offset)
            fail("truncated: ", a.name, " region ends past the end of the file");
        for (std::size_t j = 0; j < i; ++j) {
            const Extent& b = extents[j];
            if (a.offset < b.offset + b.length && b.offset < a.offset + a.length)
                fail("overlapping regions: ", a.name, " and ", b.name);
        }
    }

    if (lay.metadata_region.length > 64 * kMiB)
        fail("metadata region of ", lay.metadata_region.length, " bytes is implausibly large");
    std::vector<std::byte> meta_bytes(lay.metadata_region.length);
    src.read_exact(lay.metadata_region.offset, meta_bytes);
    lay.meta = parse_metadata(meta_bytes);
    lay.geo = BatGeometry::compute(lay.meta);

    if (lay.geo.entries * 8 > lay.bat_region.length)
        fail("BAT region (", lay.bat_region.length, " bytes) is too small for ", lay.geo.entries, " entries");
    std::vector<std::byte> bat_bytes(lay.geo.entries * 8);
    src.read_exact(lay.bat_region.offset, bat_bytes);
    lay.bat.resize(lay.geo.entries);
    for (std::size_t i = 0; i < lay.bat.size(); ++i)
        lay.bat[i] = load_le<std::uint64_t>(bat_bytes.data() + 8 * i);

    // Every allocated block lies inside the file and clear of the regions above.
    auto check_block = [&](std::uint64_t index, std::uint64_t offset, std::uint64_t length) {
        if (offset < kMiB) fail("BAT entry ", index, " points into the header section");
        if (offset > file_size || length > file_size - offset)
            fail("BAT entry ", index, " points past end of file (offset ", offset, ", file size ", file_size,
                 ")");
        for (const Extent& r : extents)
            if (offset < r.offset + r.length && r.offset < offset + length)
                fail("BAT entry ", index, " overlaps the ", r.name, " region");
    };
    for (std::uint64_t chunk = 0; chunk < lay.geo.chunks; ++chunk) {
        std::uint64_t first = chunk * lay.geo.chunk_ratio;
        std::uint64_t last = std::min(first + lay.geo.chunk_ratio, lay.geo.payload_blocks);
        bool bitmap_present = false;
        if (lay.meta.has_parent) {
            std::uint64_t bi = lay.geo.bitmap_index(chunk);
            std::uint8_t s = bat_state(lay.bat[bi]);
            if (s == kBitmapPresent) {
                check_block(bi, bat_offset(lay.bat[bi]), kMiB);
                bitmap_present = true;
            } else if (s != 0) {
                fail("sector bitmap BAT entry ", bi, " has invalid state ", unsigned{s});
            }
        }
        for (std::uint64_t block = first; block < last; ++block) {
            std::uint64_t pi = lay.geo.payload_index(block);
            std::uint8_t s = bat_state(lay.bat[pi]);
            switch (static_cast<PayloadState>(s)) {
                case PayloadState::not_present:
                case PayloadState::undefined:
                case PayloadState::zero:
                case PayloadState::unmapped:
                    break;
                case PayloadState::partially_present:
                    if (!lay.meta.has_parent)
                        fail("BAT entry ", pi, " is PARTIALLY_PRESENT in a disk without a parent");
                    if (!bitmap_present)
                        fail("BAT entry ", pi, " is PARTIALLY_PRESENT but its sector bitmap is absent");
                    [[fallthrough]];
                case PayloadState::fully_present:
                    check_block(pi, bat_offset(lay.bat[pi]), lay.meta.block_size);
                    break;
                default:
                    fail("BAT entry ", pi, " has invalid state ", unsigned{s});
            }
        }
    }
    return lay;
}

}  // namespace bootherd::imagestore::vhdx
