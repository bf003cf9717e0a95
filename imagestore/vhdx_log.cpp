#include "imagestore/vhdx_log.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <sstream>

#include "common/bytes.hpp"
#include "common/crc32c.hpp"
#include "imagestore/image_error.hpp"

namespace bootherd::imagestore::vhdx {

namespace {

constexpr std::uint32_t kEntrySignature = 0x65676f6c;       // "loge"
constexpr std::uint32_t kDataDescSignature = 0x63736564;    // "desc"
constexpr std::uint32_t kZeroDescSignature = 0x6f72657a;    // "zero"
constexpr std::uint32_t kDataSectorSignature = 0x61746164;  // "data"
constexpr std::size_t kEntryHeaderSize = 64;
constexpr std::size_t kDescriptorSize = 32;

std::size_t descriptor_sectors(std::size_t count) {
    return (kEntryHeaderSize + kDescriptorSize * count + kLogSector - 1) / kLogSector;
}

std::uint32_t entry_checksum(std::span<const std::byte> entry) {
    static constexpr std::byte kZero[4]{};
    std::uint32_t crc = crc32c(entry.first(4));
    crc = crc32c(std::span<const std::byte>(kZero, 4), crc);
    return crc32c(entry.subspan(8), crc);
}

struct ParsedEntry {
    std::uint64_t offset = 0;  // in the log
    std::uint32_t length = 0;
    std::uint32_t tail = 0;
    std::uint64_t sequence = 0;
    std::uint64_t flushed_file_offset = 0;
    std::uint64_t last_file_offset = 0;
    std::vector<LogWrite> writes;
};

// Decodes the entry at `at` (log-relative, may wrap around the end of the log); nullopt when it is not a
// valid entry of this log.
std::optional<ParsedEntry> parse_entry(const ByteSource& src, const Header& h, std::uint64_t at) {
    auto read_wrapped = [&](std::uint64_t log_pos, std::span<std::byte> out) {
        for (std::size_t done = 0; done < out.size(); done += kLogSector) {
            std::uint64_t pos = (log_pos + done) % h.log_length;
            src.read_exact(h.log_offset + pos, out.subspan(done, kLogSector));
        }
    };
    std::array<std::byte, kLogSector> first{};
    read_wrapped(at, first);
    if (load_le<std::uint32_t>(first.data()) != kEntrySignature) return std::nullopt;
    std::uint32_t length = load_le<std::uint32_t>(first.data() + 8);
    std::uint32_t tail = load_le<std::uint32_t>(first.data() + 12);
    std::uint64_t sequence = load_le<std::uint64_t>(first.data() + 16);
    std::uint32_t count = load_le<std::uint32_t>(first.data() + 24);
    if (length < kLogSector || length % kLogSector != 0 || length > h.log_length) return std::nullopt;
    if (tail % kLogSector != 0 || tail >= h.log_length || sequence == 0) return std::nullopt;
    if (Guid::load(first.data() + 32) != h.log) return std::nullopt;
    std::size_t sectors = length / kLogSector;
    std::size_t desc_sectors = descriptor_sectors(count);
    if (desc_sectors > sectors) return std::nullopt;

    std::vector<std::byte> entry(length);
    read_wrapped(at, entry);
    if (load_le<std::uint32_t>(entry.data() + 4) != entry_checksum(entry)) return std::nullopt;

    ParsedEntry e;
    e.offset = at;
    e.length = length;
    e.tail = tail;
    e.sequence = sequence;
    e.flushed_file_offset = load_le<std::uint64_t>(entry.data() + 48);
    e.last_file_offset = load_le<std::uint64_t>(entry.data() + 56);
    std::size_t next_data_sector = desc_sectors;
    for (std::size_t i = 0; i < count; ++i) {
        const std::byte* d = entry.data() + kEntryHeaderSize + kDescriptorSize * i;
        std::uint32_t sig = load_le<std::uint32_t>(d);
        if (load_le<std::uint64_t>(d + 24) != sequence) return std::nullopt;
        LogWrite w;
        w.file_offset = load_le<std::uint64_t>(d + 16);
        if (sig == kZeroDescSignature) {
            w.zero_length = load_le<std::uint64_t>(d + 8);
            if (w.zero_length == 0 || w.zero_length % kLogSector != 0) return std::nullopt;
        } else if (sig == kDataDescSignature) {
            if (next_data_sector >= sectors) return std::nullopt;
            const std::byte* s = entry.data() + next_data_sector * kLogSector;
            ++next_data_sector;
            if (load_le<std::uint32_t>(s) != kDataSectorSignature) return std::nullopt;
            if (load_le<std::uint32_t>(s + 4) != static_cast<std::uint32_t>(sequence >> 32) ||
                load_le<std::uint32_t>(s + 4092) != static_cast<std::uint32_t>(sequence))
                return std::nullopt;
            std::memcpy(w.data.data(), d + 8, 8);
            std::memcpy(w.data.data() + 8, s + 8, kLogSector - 12);
            std::memcpy(w.data.data() + kLogSector - 4, d + 4, 4);
        } else {
            return std::nullopt;
        }
        if (w.file_offset % kLogSector != 0) return std::nullopt;
        e.writes.push_back(w);
    }
    return e;
}

template <class... Parts>
[[noreturn]] void fail(const Parts&... parts) {
    std::ostringstream msg;
    (msg << ... << parts);
    throw FormatError(msg.str());
}

}  // namespace

std::size_t log_entry_size(std::size_t page_count) {
    return (descriptor_sectors(page_count) + page_count) * kLogSector;
}

std::vector<std::byte> build_log_entry(const LogEntryFields& f, std::span<const LogPage> pages) {
    std::size_t desc_sectors = descriptor_sectors(pages.size());
    std::vector<std::byte> entry(log_entry_size(pages.size()));
    std::byte* h = entry.data();
    store_le<std::uint32_t>(h, kEntrySignature);
    store_le<std::uint32_t>(h + 8, static_cast<std::uint32_t>(entry.size()));
    store_le<std::uint32_t>(h + 12, f.tail);
    store_le<std::uint64_t>(h + 16, f.sequence);
    store_le<std::uint32_t>(h + 24, static_cast<std::uint32_t>(pages.size()));
    f.log_guid.store(h + 32);
    store_le<std::uint64_t>(h + 48, f.flushed_file_offset);
    store_le<std::uint64_t>(h + 56, f.last_file_offset);
    for (std::size_t i = 0; i < pages.size(); ++i) {
        std::byte* d = h + kEntryHeaderSize + kDescriptorSize * i;
        store_le<std::uint32_t>(d, kDataDescSignature);
        std::memcpy(d + 4, pages[i].data.data() + kLogSector - 4, 4);
        std::memcpy(d + 8, pages[i].data.data(), 8);
        store_le<std::uint64_t>(d + 16, pages[i].file_offset);
        store_le<std::uint64_t>(d + 24, f.sequence);
        std::byte* s = h + (desc_sectors + i) * kLogSector;
        store_le<std::uint32_t>(s, kDataSectorSignature);
        store_le<std::uint32_t>(s + 4, static_cast<std::uint32_t>(f.sequence >> 32));
        std::memcpy(s + 8, pages[i].data.data() + 8, kLogSector - 12);
        store_le<std::uint32_t>(s + 4092, static_cast<std::uint32_t>(f.sequence));
    }
    store_le<std::uint32_t>(h + 4, entry_checksum(entry));
    return entry;
}

std::optional<LogReplay> find_active_log(const ByteSource& src, const Header& h) {
    if (h.log.is_zero() || h.log_length == 0) return std::nullopt;
    std::map<std::uint64_t, ParsedEntry> entries;
    for (std::uint64_t at = 0; at < h.log_length; at += kLogSector)
        if (auto e = parse_entry(src, h, at)) entries.emplace(at, std::move(*e));

    // A sequence runs from an entry through its successors (each directly after the previous, with the next
    // sequence number); it is complete when its last entry's tail points back at its first entry.
    const ParsedEntry* best_first = nullptr;
    const ParsedEntry* best_last = nullptr;
    for (const auto& [at, first] : entries) {
        const ParsedEntry* last = &first;
        const ParsedEntry* cur = &first;
        for (std::size_t steps = 0; steps < entries.size(); ++steps) {
            auto next = entries.find((cur->offset + cur->length) % h.log_length);
            if (next == entries.end() || next->second.sequence != cur->sequence + 1) break;
            cur = &next->second;
            if (cur->tail == first.offset) last = cur;
        }
        if (last->tail != first.offset) continue;
        if (!best_last || last->sequence > best_last->sequence) {
            best_first = &first;
            best_last = last;
        }
    }
    if (!best_last) return std::nullopt;

    LogReplay replay;
    replay.flushed_file_offset = best_last->flushed_file_offset;
    replay.last_file_offset = best_last->last_file_offset;
    replay.last_sequence = best_last->sequence;
    for (const ParsedEntry* e = best_first;; e = &entries.at((e->offset + e->length) % h.log_length)) {
        replay.writes.insert(replay.writes.end(), e->writes.begin(), e->writes.end());
        if (e == best_last) break;
    }
    if (replay.flushed_file_offset > src.size())
        fail("active log expects the file to hold ", replay.flushed_file_offset, " bytes but it has ",
             src.size(), " (truncated)");
    for (const LogWrite& w : replay.writes) {
        std::uint64_t len = w.zero_length != 0 ? w.zero_length : kLogSector;
        bool in_header_section = w.file_offset < kMiB;
        bool in_log = w.file_offset < h.log_offset + h.log_length && h.log_offset < w.file_offset + len;
        if (in_header_section || in_log || w.file_offset > replay.last_file_offset ||
            len > replay.last_file_offset - w.file_offset)
            fail("active log does not replay: it writes ", len, " bytes at offset ", w.file_offset,
                 " outside the file's metadata area");
    }
    return replay;
}

}  // namespace bootherd::imagestore::vhdx
