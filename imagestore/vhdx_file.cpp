#include "imagestore/vhdx_file.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "block/block_device.hpp"
#include "common/bytes.hpp"
#include "common/log.hpp"
#include "imagestore/image_error.hpp"
#include "imagestore/vhdx_log.hpp"

namespace bootherd::imagestore {

namespace fs = std::filesystem;
using vhdx::kMiB;
using vhdx::PayloadState;

namespace {

constexpr std::uint64_t kLogLength = kMiB;
constexpr std::uint64_t kLogOffset = kMiB;
constexpr std::uint64_t kMetadataOffset = 2 * kMiB;
constexpr std::uint64_t kBatOffset = 3 * kMiB;
constexpr std::uint64_t kBatEntriesPerPage = vhdx::kLogSector / 8;
constexpr std::uint64_t kBitmapPagesPerBlock = kMiB / vhdx::kLogSector;

std::uint64_t round_up(std::uint64_t v, std::uint64_t to) {
    return (v + to - 1) / to * to;
}

PayloadState state_of(std::uint64_t entry) {
    return static_cast<PayloadState>(vhdx::bat_state(entry));
}

bool is_allocated(PayloadState s) {
    return s == PayloadState::fully_present || s == PayloadState::partially_present;
}

std::string windows_separators(std::string s) {
    std::replace(s.begin(), s.end(), '/', '\\');
    return s;
}
std::string posix_separators(std::string s) {
    std::replace(s.begin(), s.end(), '\\', '/');
    return s;
}

template <class... Parts>
std::string concat(const Parts&... parts) {
    std::ostringstream msg;
    (msg << ... << parts);
    return msg.str();
}

}  // namespace

VhdxFile::VhdxFile(std::unique_ptr<ImageFile> file, bool writable)
    : file_(std::move(file)), writable_(writable) {}

VhdxFile::~VhdxFile() {
    try {
        close();
    } catch (const std::exception& e) {
        log::error("closing ", path(), ": ", e.what());
    }
}

std::shared_ptr<VhdxFile> VhdxFile::create_dynamic(const std::string& path, const CreateOptions& o) {
    vhdx::Metadata meta;
    meta.block_size = o.block_size;
    meta.virtual_size = o.size;
    meta.logical_sector = o.logical_sector;
    meta.physical_sector = o.physical_sector;
    auto page83 = Guid::random();
    std::memcpy(meta.page83.data(), page83.bytes.data(), 16);
    return create(path, meta);
}

std::shared_ptr<VhdxFile> VhdxFile::create_differencing(const std::string& path,
                                                        const std::string& parent_path) {
    auto parent = open(parent_path, OpenMode::read_only);
    vhdx::Metadata meta = parent->metadata();
    meta.has_parent = true;
    meta.leave_blocks_allocated = false;
    auto page83 = Guid::random();
    std::memcpy(meta.page83.data(), page83.bytes.data(), 16);
    fs::path abs_parent = fs::absolute(parent_path).lexically_normal();
    fs::path child_dir = fs::absolute(path).lexically_normal().parent_path();
    std::string relative = fs::relative(abs_parent, child_dir).generic_string();
    if (relative.rfind("..", 0) != 0) relative = "./" + relative;
    vhdx::ParentLocator loc;
    loc.entries.emplace_back("parent_linkage", parent->header().data_write.to_string());
    loc.entries.emplace_back("relative_path", windows_separators(relative));
    loc.entries.emplace_back("absolute_win32_path", abs_parent.string());
    meta.parent = std::move(loc);
    return create(path, meta);
}

std::shared_ptr<VhdxFile> VhdxFile::create(const std::string& path, const vhdx::Metadata& meta) {
    auto bad = [&](const std::string& what) { throw ImageError(path, "cannot create: " + what); };
    auto pow2 = [](std::uint64_t v) { return v != 0 && (v & (v - 1)) == 0; };
    if (!pow2(meta.block_size) || meta.block_size < kMiB || meta.block_size > 256 * kMiB)
        bad("block size must be a power of two from 1 MiB to 256 MiB");
    if (meta.logical_sector != 512 && meta.logical_sector != 4096)
        bad("logical sector size must be 512 or 4096");
    if (meta.physical_sector != 512 && meta.physical_sector != 4096)
        bad("physical sector size must be 512 or 4096");
    if (meta.virtual_size == 0 || meta.virtual_size % meta.logical_sector != 0 ||
        meta.virtual_size > vhdx::kMaxVirtualSize)
        bad("size must be a non-zero multiple of the logical sector size, at most 64 TiB");

    auto geo = vhdx::BatGeometry::compute(meta);
    std::uint64_t bat_length = round_up(geo.entries * 8, kMiB);
    {
        ImageFile file(path, ImageFile::Access::create_new);
        try {
            std::vector<std::byte> ident(64 * 1024);
            vhdx::serialize_file_identifier(ident);
            file.write_all(0, ident);

            vhdx::Header h;
            h.file_write = Guid::random();
            h.data_write = Guid::random();
            h.log_length = static_cast<std::uint32_t>(kLogLength);
            h.log_offset = kLogOffset;
            std::array<std::byte, vhdx::kHeaderSize> hbuf{};
            for (int slot = 0; slot < 2; ++slot) {
                h.sequence = static_cast<std::uint64_t>(slot);
                vhdx::serialize_header(h, hbuf);
                file.write_all(vhdx::kHeaderOffsets[slot], hbuf);
            }
            std::array<vhdx::Region, 2> regions{
                vhdx::Region{vhdx::kBatRegion, kBatOffset, static_cast<std::uint32_t>(bat_length), true},
                vhdx::Region{vhdx::kMetadataRegion, kMetadataOffset, static_cast<std::uint32_t>(kMiB), true}};
            std::vector<std::byte> rbuf(vhdx::kRegionTableSize);
            vhdx::serialize_region_table(regions, std::span<std::byte, vhdx::kRegionTableSize>(rbuf));
            for (std::uint64_t at : vhdx::kRegionTableOffsets)
                file.write_all(at, rbuf);
            file.write_all(kMetadataOffset, vhdx::serialize_metadata(meta));
            file.resize(kBatOffset + bat_length);
            file.sync();
        } catch (...) {
            std::error_code ignored;
            fs::remove(path, ignored);
            throw;
        }
    }
    return open(path, OpenMode::read_write);
}

std::shared_ptr<VhdxFile> VhdxFile::open(const std::string& path, OpenMode mode) {
    bool writable = mode == OpenMode::read_write;
    auto file = std::make_unique<ImageFile>(
        path, writable ? ImageFile::Access::read_write : ImageFile::Access::read_only);
    if (writable && !file->try_lock_exclusive())
        throw ImageError(path,
                         "is already open for writing (by a running `bootherd serve` or another writer); "
                         "close it there first");
    std::shared_ptr<VhdxFile> vf(new VhdxFile(std::move(file), writable));
    try {
        vf->load();
    } catch (const FormatError& e) {
        vf->closed_ = true;
        throw ImageError(path, e.what());
    } catch (...) {
        vf->closed_ = true;
        throw;
    }
    return vf;
}

void VhdxFile::load() {
    vhdx::check_file_identifier(*file_);
    auto current = vhdx::read_current_header(*file_);
    current_ = current;
    if (!current.header.log.is_zero()) {
        if (!writable_)
            throw ImageError(path(),
                             "has an active log (not closed cleanly); open it read-write once to replay it");
        replay_log(current);
        current = current_;
    }
    vhdx::Layout lay = vhdx::read_layout(*file_, current);
    meta_ = std::move(lay.meta);
    geo_ = lay.geo;
    bat_ = std::move(lay.bat);
    bat_file_offset_ = lay.bat_region.offset;
    bitmaps_.resize(geo_.chunks);
    if (meta_.has_parent) {
        for (std::uint64_t c = 0; c < geo_.chunks; ++c) {
            std::uint64_t e = bat_[geo_.bitmap_index(c)];
            if (vhdx::bat_state(e) != vhdx::kBitmapPresent) continue;
            std::vector<std::byte> block(
                SectorBitmap::kBytes);  // only while loading: pages of zeros are dropped
            file_->read_exact(vhdx::bat_offset(e), block);
            bitmaps_[c].load(block);
        }
    }
    if (writable_) reserve_metadata_space(lay);
    std::uint64_t end = file_->size();
    end = std::max(end, lay.bat_region.offset + lay.bat_region.length);
    end = std::max(end, lay.metadata_region.offset + lay.metadata_region.length);
    end = std::max(end, current.header.log_offset + current.header.log_length);
    next_free_ = round_up(end, kMiB);

    if (writable_) {
        if (current.header.log_length < kMiB)
            throw ImageError(path(), "has no log region, so it cannot be opened read-write");
        max_entry_pages_ = 1;
        while (vhdx::log_entry_size(max_entry_pages_ + 1) <= current.header.log_length / 3)
            ++max_entry_pages_;
        std::lock_guard lk(header_mutex_);
        update_header_locked([](vhdx::Header& h) { h.file_write = Guid::random(); });
    }
}

// Files made by this writer were sparse here before, and other tools make them so: without this, a full file
// system would make every commit fail. Best effort: while the file system is full, commits may fail (and are
// retried by the next flush) until space is freed.
void VhdxFile::reserve_metadata_space(const vhdx::Layout& layout) {
    const vhdx::Header& h = current_.header;
    try {
        file_->reserve(h.log_offset, h.log_length);
        file_->reserve(layout.bat_region.offset, layout.bat_region.length);
        for (std::uint64_t c = 0; c < geo_.chunks; ++c) {
            if (bitmaps_[c].present()) file_->reserve(vhdx::bat_offset(bat_[geo_.bitmap_index(c)]), kMiB);
        }
    } catch (const ImageError& e) {
        if (!block::is_out_of_space(e.code())) throw;
        log::warn(path(), ": no space to reserve for metadata; flushes may fail until space is freed");
    }
}

void VhdxFile::replay_log(const vhdx::CurrentHeader& current) {
    auto replay = vhdx::find_active_log(*file_, current.header);
    if (replay) {
        if (file_->size() < replay->last_file_offset) file_->resize(replay->last_file_offset);
        std::vector<std::byte> zeros;
        for (const vhdx::LogWrite& w : replay->writes) {
            if (w.zero_length == 0) {
                file_->write_all(w.file_offset, w.data);
                continue;
            }
            zeros.assign(static_cast<std::size_t>(std::min<std::uint64_t>(w.zero_length, kMiB)),
                         std::byte{0});
            for (std::uint64_t done = 0; done < w.zero_length; done += zeros.size())
                file_->write_all(w.file_offset + done,
                                 std::span<const std::byte>(zeros).first(static_cast<std::size_t>(
                                     std::min<std::uint64_t>(zeros.size(), w.zero_length - done))));
        }
        file_->sync();
        log::info(path(), ": replayed ", replay->writes.size(), " logged metadata writes");
    } else {
        log::warn(path(), ": the log is active but holds no valid entry; nothing to replay");
    }
    std::lock_guard lk(header_mutex_);
    update_header_locked([](vhdx::Header& h) { h.log = Guid{}; });
}

void VhdxFile::update_header_locked(const std::function<void(vhdx::Header&)>& change) {
    // MS-VHDX 2.2.2.1: write the non-current header with the next sequence number, then flush.
    vhdx::Header h = current_.header;
    change(h);
    h.sequence = current_.header.sequence + 1;
    std::array<std::byte, vhdx::kHeaderSize> buf{};
    vhdx::serialize_header(h, buf);
    int slot = 1 - current_.slot;
    file_->write_all(vhdx::kHeaderOffsets[slot], buf);
    file_->sync();
    current_ = {h, slot};
}

vhdx::Header VhdxFile::header() const {
    std::lock_guard lk(header_mutex_);
    return current_.header;
}

void VhdxFile::ensure_data_write_guid() {
    if (data_write_guid_changed_.load(std::memory_order_acquire)) return;
    std::lock_guard lk(header_mutex_);
    if (data_write_guid_changed_.load(std::memory_order_relaxed)) return;
    update_header_locked([](vhdx::Header& h) { h.data_write = Guid::random(); });
    data_write_guid_changed_.store(true, std::memory_order_release);
}

vhdx::PayloadState VhdxFile::block_state(std::uint64_t block) const {
    std::shared_lock lk(state_mutex_);
    return state_of(bat_.at(geo_.payload_index(block)));
}

std::vector<std::string> VhdxFile::parent_candidates() const {
    std::vector<std::string> out;
    if (!meta_.parent) return out;
    if (const std::string* rel = meta_.parent->find("relative_path"))
        out.push_back((fs::path(path()).parent_path() / posix_separators(*rel)).lexically_normal().string());
    if (const std::string* abs = meta_.parent->find("absolute_win32_path"))
        out.push_back(posix_separators(*abs));
    return out;
}

void VhdxFile::check_parent(const Layer& parent) const {
    const auto* p = dynamic_cast<const VhdxFile*>(&parent);
    if (!p) throw ImageError(path(), concat("parent ", parent.path(), " is not a VHDX file"));
    const std::string* linkage = meta_.parent ? meta_.parent->find("parent_linkage") : nullptr;
    if (!linkage) throw ImageError(path(), "parent locator has no parent_linkage");
    auto expected = Guid::parse(*linkage);
    if (!expected) throw ImageError(path(), "parent_linkage \"" + *linkage + "\" is not a GUID");
    Guid actual = p->header().data_write;
    if (*expected != actual)
        throw ImageError(path(), concat("parent ", parent.path(), " does not match: parent_linkage is ",
                                        expected->to_string(), " but the parent's DataWriteGuid is ",
                                        actual.to_string(), " (the parent was modified or is another file)"));
    if (p->virtual_size() != virtual_size() || p->logical_sector_size() != logical_sector_size())
        throw ImageError(path(), concat("parent ", parent.path(), " has a different size or sector size"));
}

// A read-only file's BAT and bitmaps never change after open: its readers (every node reading a shared base)
// skip the lock, and its cache line, entirely.
Mapping VhdxFile::map(std::uint64_t offset, std::uint64_t max_length) const {
    if (!writable_) return map_locked(offset, max_length);
    std::shared_lock lk(state_mutex_);
    return map_locked(offset, max_length);
}

bool VhdxFile::try_map(std::uint64_t offset, std::uint64_t max_length, Mapping& out) const {
    if (!writable_) {
        out = map_locked(offset, max_length);
        return true;
    }
    std::shared_lock lk(state_mutex_, std::try_to_lock);
    if (!lk.owns_lock()) return false;
    out = map_locked(offset, max_length);
    return true;
}

Mapping VhdxFile::map_locked(std::uint64_t offset, std::uint64_t max_length) const {
    const std::uint64_t bs = meta_.block_size;
    std::uint64_t block = offset / bs;
    std::uint64_t in_block = offset % bs;
    std::uint64_t length = std::min(max_length, bs - in_block);
    std::uint64_t entry = bat_[geo_.payload_index(block)];
    switch (state_of(entry)) {
        case PayloadState::fully_present:
            return {Mapping::Source::data, vhdx::bat_offset(entry) + in_block, length};
        case PayloadState::not_present:
            return {meta_.has_parent ? Mapping::Source::parent : Mapping::Source::zero, 0, length};
        case PayloadState::partially_present:
            break;
        default:
            return {Mapping::Source::zero, 0, length};
    }
    // A run of sectors with the same bitmap bit.
    const SectorBitmap& bitmap = bitmaps_[block / geo_.chunk_ratio];
    const std::uint64_t ls = meta_.logical_sector;
    std::uint64_t first = (block % geo_.chunk_ratio) * geo_.sectors_per_block + in_block / ls;
    std::uint64_t limit = first + length / ls;
    auto bit = [&](std::uint64_t i) { return bitmap.test(i) ? 1u : 0u; };
    const unsigned value = bit(first);
    std::uint64_t i = first + 1;
    const std::byte uniform = value ? std::byte{0xff} : std::byte{0};
    while (i < limit) {
        if (i % 8 == 0 && i + 8 <= limit && bitmap.byte_at(i / 8) == uniform) {
            i += 8;
        } else if (bit(i) == value) {
            ++i;
        } else {
            break;
        }
    }
    length = (i - first) * ls;
    if (value) return {Mapping::Source::data, vhdx::bat_offset(entry) + in_block, length};
    return {Mapping::Source::parent, 0, length};
}

void VhdxFile::read_data(std::uint64_t file_offset, std::span<std::byte> out) const {
    file_->read_exact(file_offset, out);
}

bool VhdxFile::read_data_cached(std::uint64_t file_offset, std::span<std::byte> out) const {
    return file_->try_read_cached(file_offset, out);
}

void VhdxFile::require_writable(const char* what) const {
    if (!writable_) throw ImageError(path(), concat("cannot ", what, ": opened read-only"));
    if (closed_) throw ImageError(path(), concat("cannot ", what, ": closed"));
}

void VhdxFile::check_range(std::uint64_t offset, std::uint64_t length, const char* what) const {
    const std::uint64_t ls = meta_.logical_sector;
    if (offset % ls != 0 || length % ls != 0 || offset > meta_.virtual_size ||
        length > meta_.virtual_size - offset)
        throw ImageError(path(),
                         concat(what, " of ", length, " bytes at ", offset, " is unaligned or out of range"));
}

std::uint64_t VhdxFile::allocate(std::uint64_t length, Backing backing) {
    const std::uint64_t at = next_free_.load();
    const std::uint64_t end = at + round_up(length, kMiB);
    if (backing == Backing::reserved) {
        try {
            if (!file_->reserve(at, end - at) && file_->size() < end) file_->resize(end);
        } catch (...) {
            release_from(at);  // fallocate may have reserved part of it
            throw;
        }
    } else if (file_->size() < end) {  // never shrink: released space below the end is reused
        file_->resize(end);
    }
    next_free_.store(end);
    return at;
}

void VhdxFile::release_from(std::uint64_t at) noexcept {
    try {
        const std::uint64_t size = file_->size();
        if (size > at) file_->punch_hole(at, size - at);
        next_free_.store(at);
    } catch (const std::exception& e) {
        log::warn(path(), ": cannot give back the space of a failed allocation: ", e.what());
    }
}

void VhdxFile::set_entry_locked(std::uint64_t index, std::uint64_t entry) {
    bat_[index] = entry;
    dirty_bat_pages_.insert(index / kBatEntriesPerPage);
}

std::optional<std::uint64_t> VhdxFile::prepare_bitmap(std::uint64_t chunk) {
    if (bitmaps_[chunk].present()) return std::nullopt;
    return allocate(kMiB, Backing::reserved);
}

void VhdxFile::set_bits_locked(std::uint64_t block, std::uint64_t first_sector, std::uint64_t count) {
    std::uint64_t chunk = block / geo_.chunk_ratio;
    SectorBitmap& bitmap = bitmaps_[chunk];
    std::uint64_t first = (block % geo_.chunk_ratio) * geo_.sectors_per_block + first_sector;
    for (std::uint64_t i = first; i < first + count; ++i)
        bitmap.set(i);
    std::uint64_t bits_per_page = vhdx::kLogSector * 8;
    for (std::uint64_t page = first / bits_per_page; page <= (first + count - 1) / bits_per_page; ++page)
        dirty_bitmap_pages_.insert(chunk * kBitmapPagesPerBlock + page);
}

bool VhdxFile::bits_all_set_locked(std::uint64_t block, std::uint64_t first_sector,
                                   std::uint64_t count) const {
    const SectorBitmap& bitmap = bitmaps_[block / geo_.chunk_ratio];
    if (!bitmap.present()) return false;
    std::uint64_t first = (block % geo_.chunk_ratio) * geo_.sectors_per_block + first_sector;
    for (std::uint64_t i = first; i < first + count; ++i)
        if (!bitmap.test(i)) return false;
    return true;
}

void VhdxFile::write(std::uint64_t offset, std::span<const std::byte> data, bool fua) {
    require_writable("write");
    check_range(offset, data.size(), "write");
    if (data.empty()) return;
    ensure_data_write_guid();
    const std::uint64_t bs = meta_.block_size;
    std::size_t done = 0;
    while (done < data.size()) {
        std::uint64_t at = offset + done;
        std::uint64_t in_block = at % bs;
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(data.size() - done, bs - in_block));
        write_in_block(at / bs, in_block, data.subspan(done, n));
        done += n;
    }
    if (fua)
        commit();
    else
        commit_if_large();
}

void VhdxFile::write_in_block(std::uint64_t block, std::uint64_t in_block, std::span<const std::byte> data) {
    const std::uint64_t index = geo_.payload_index(block);
    const std::uint64_t ls = meta_.logical_sector;
    const std::uint64_t first_sector = in_block / ls;
    const std::uint64_t sectors = data.size() / ls;
    {
        // Fast path: the block is already allocated and the sectors are already marked present.
        std::shared_lock lk(state_mutex_);
        std::uint64_t entry = bat_[index];
        PayloadState s = state_of(entry);
        if (s == PayloadState::fully_present ||
            (s == PayloadState::partially_present && bits_all_set_locked(block, first_sector, sectors))) {
            file_->write_all(vhdx::bat_offset(entry) + in_block, data);
            return;
        }
    }
    // Only writers holding allocation_mutex_ change the BAT and bitmaps, so they can be read here without
    // state_mutex_; it is taken exclusively only to publish a change.
    std::lock_guard alloc(allocation_mutex_);
    const std::uint64_t entry = bat_[index];
    const PayloadState s = state_of(entry);
    if (s == PayloadState::fully_present) {
        file_->write_all(vhdx::bat_offset(entry) + in_block, data);
        return;
    }
    const std::uint64_t chunk = block / geo_.chunk_ratio;
    if (s == PayloadState::partially_present) {
        // Data first, then the bits that make it visible.
        file_->write_all(vhdx::bat_offset(entry) + in_block, data);
        std::unique_lock lk(state_mutex_);
        set_bits_locked(block, first_sector, sectors);
        if (bits_all_set_locked(block, 0, geo_.sectors_per_block))
            set_entry_locked(index,
                             vhdx::make_bat_entry(static_cast<std::uint8_t>(PayloadState::fully_present),
                                                  vhdx::bat_offset(entry)));
        return;
    }
    // Unallocated. Fresh file space reads as zeros, which is right for every state except NOT_PRESENT in a
    // differencing disk: there the unwritten sectors must keep reading the parent, via the sector bitmap.
    const bool whole = in_block == 0 && data.size() == meta_.block_size;
    const bool shows_parent = meta_.has_parent && s == PayloadState::not_present;
    const std::uint64_t at = allocate(meta_.block_size, Backing::sparse);
    std::optional<std::uint64_t> bitmap_at;
    try {
        file_->write_all(at + in_block, data);
        if (shows_parent && !whole) bitmap_at = prepare_bitmap(chunk);
    } catch (...) {
        release_from(at);  // nothing points at the block yet: give back what the partial write took
        throw;
    }
    if (shows_parent && !whole) {
        std::unique_lock lk(state_mutex_);
        if (bitmap_at) {
            bitmaps_[chunk].make_present();
            set_entry_locked(geo_.bitmap_index(chunk),
                             vhdx::make_bat_entry(vhdx::kBitmapPresent, *bitmap_at));
        }
        set_bits_locked(block, first_sector, sectors);
        set_entry_locked(
            index, vhdx::make_bat_entry(static_cast<std::uint8_t>(PayloadState::partially_present), at));
    } else {
        std::unique_lock lk(state_mutex_);
        set_entry_locked(index,
                         vhdx::make_bat_entry(static_cast<std::uint8_t>(PayloadState::fully_present), at));
    }
}

void VhdxFile::unmap(std::uint64_t offset, std::uint64_t length) {
    require_writable("unmap");
    check_range(offset, length, "unmap");
    if (length == 0) return;
    ensure_data_write_guid();
    const std::uint64_t bs = meta_.block_size;
    for (std::uint64_t done = 0; done < length;) {
        std::uint64_t at = offset + done;
        std::uint64_t in_block = at % bs;
        std::uint64_t n = std::min(length - done, bs - in_block);
        unmap_in_block(at / bs, in_block, n);
        done += n;
        commit_if_large();
    }
}

void VhdxFile::unmap_in_block(std::uint64_t block, std::uint64_t in_block, std::uint64_t length) {
    const std::uint64_t index = geo_.payload_index(block);
    const std::uint64_t block_start = block * meta_.block_size;
    const bool whole =
        in_block == 0 && (length == meta_.block_size || block_start + length == meta_.virtual_size);
    if (whole && !meta_.leave_blocks_allocated) {
        std::lock_guard alloc(allocation_mutex_);
        std::unique_lock lk(state_mutex_);
        std::uint64_t entry = bat_[index];
        PayloadState s = state_of(entry);
        if (s == PayloadState::zero) return;
        if (!meta_.has_parent && s == PayloadState::not_present) return;
        if (is_allocated(s)) freed_blocks_.push_back(vhdx::bat_offset(entry));
        set_entry_locked(index, vhdx::make_bat_entry(static_cast<std::uint8_t>(PayloadState::zero), 0));
        return;
    }
    PayloadState s;
    std::uint64_t entry;
    {
        std::shared_lock lk(state_mutex_);
        entry = bat_[index];
        s = state_of(entry);
    }
    if (s == PayloadState::fully_present) {
        // Punched space reads as zeros; fall back to writing them where the file system cannot punch.
        if (file_->punch_hole(vhdx::bat_offset(entry) + in_block, length)) return;
    } else if (s != PayloadState::partially_present &&
               (s != PayloadState::not_present || !meta_.has_parent)) {
        return;  // already reads as zeros
    }
    static constexpr std::size_t kZeroChunk = 64 * 1024;
    static const std::vector<std::byte> zeros(kZeroChunk);
    for (std::uint64_t done = 0; done < length;) {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(length - done, kZeroChunk));
        write_in_block(block, in_block + done, std::span<const std::byte>(zeros).first(n));
        done += n;
    }
}

void VhdxFile::flush() {
    if (!writable_ || closed_) return;
    commit();
}

void VhdxFile::commit_if_large() {
    std::size_t dirty;
    {
        std::shared_lock lk(state_mutex_);
        dirty = dirty_bat_pages_.size() + dirty_bitmap_pages_.size();
    }
    if (dirty >= max_entry_pages_) commit();
}

void VhdxFile::commit() {
    std::lock_guard commit_lock(commit_mutex_);
    std::vector<vhdx::LogPage> pages;
    std::vector<std::uint64_t> freed;
    std::set<std::uint64_t> bat_keys, bitmap_keys;
    std::uint64_t file_end;
    {
        std::unique_lock lk(state_mutex_);
        bat_keys.swap(dirty_bat_pages_);
        bitmap_keys.swap(dirty_bitmap_pages_);
        freed.swap(freed_blocks_);
        file_end = next_free_.load();
        // Sector bitmaps before the BAT pages that may make them reachable.
        for (std::uint64_t key : bitmap_keys) {
            std::uint64_t chunk = key / kBitmapPagesPerBlock, page = key % kBitmapPagesPerBlock;
            vhdx::LogPage p;
            p.file_offset = vhdx::bat_offset(bat_[geo_.bitmap_index(chunk)]) + page * vhdx::kLogSector;
            bitmaps_[chunk].copy_page(page, p.data);
            pages.push_back(p);
        }
        for (std::uint64_t page : bat_keys) {
            vhdx::LogPage p;
            p.file_offset = bat_file_offset_ + page * vhdx::kLogSector;
            std::uint64_t first = page * kBatEntriesPerPage;
            std::uint64_t last = std::min<std::uint64_t>(first + kBatEntriesPerPage, bat_.size());
            for (std::uint64_t i = first; i < last; ++i)
                store_le<std::uint64_t>(p.data.data() + 8 * (i - first), bat_[i]);
            pages.push_back(p);
        }
    }
    try {
        file_->sync();  // data before the metadata that points at it
        if (!pages.empty()) {
            Guid log_guid;
            std::uint64_t log_offset, log_length;
            {
                std::lock_guard lk(header_mutex_);
                if (current_.header.log.is_zero()) {
                    update_header_locked([](vhdx::Header& h) { h.log = Guid::random(); });
                    log_head_ = 0;
                }
                log_guid = current_.header.log;
                log_offset = current_.header.log_offset;
                log_length = current_.header.log_length;
            }
            for (std::size_t first = 0; first < pages.size(); first += max_entry_pages_) {
                std::size_t n = std::min(max_entry_pages_, pages.size() - first);
                if (log_head_ + vhdx::log_entry_size(n) > log_length) log_head_ = 0;
                vhdx::LogEntryFields f;
                f.log_guid = log_guid;
                f.sequence = ++log_sequence_;
                f.tail = log_head_;  // every entry is a complete sequence of its own
                f.flushed_file_offset = file_end;
                f.last_file_offset = file_end;
                auto entry =
                    vhdx::build_log_entry(f, std::span<const vhdx::LogPage>(pages).subspan(first, n));
                file_->write_all(log_offset + log_head_, entry);
                file_->sync();
                for (std::size_t i = first; i < first + n; ++i)
                    file_->write_all(pages[i].file_offset, pages[i].data);
                file_->sync();
                log_head_ += static_cast<std::uint32_t>(entry.size());
            }
        }
    } catch (...) {
        std::unique_lock lk(state_mutex_);
        dirty_bat_pages_.insert(bat_keys.begin(), bat_keys.end());
        dirty_bitmap_pages_.insert(bitmap_keys.begin(), bitmap_keys.end());
        freed_blocks_.insert(freed_blocks_.end(), freed.begin(), freed.end());
        throw;
    }
    for (std::uint64_t at : freed)
        file_->punch_hole(at, meta_.block_size);
}

void VhdxFile::close() {
    if (closed_) return;
    if (writable_) {
        commit();
        std::lock_guard lk(header_mutex_);
        if (!current_.header.log.is_zero()) update_header_locked([](vhdx::Header& h) { h.log = Guid{}; });
    }
    closed_ = true;
}

}  // namespace bootherd::imagestore
