#pragma once
// One VHDX file (MS-VHDX): dynamic or differencing, opened read-only or read-write.
//
// Crash safety. Payload data is written in place; BAT and sector bitmap changes are kept in memory and
// committed by flush() (and by FUA writes) through the log in qemu's order: data fdatasync, log entry write,
// fdatasync, in-place metadata write, fdatasync. Each entry is its own sequence (its tail points at itself)
// and no entry exceeds a third of the log, so writing an entry never overwrites the previous one; replaying
// the newest valid entry is therefore always correct. New blocks are appended at the end of the file and
// freed blocks are never reused: their space is punched out (fallocate PUNCH_HOLE) once the commit that frees
// them is durable. A file with an active log is replayed when opened read-write; a read-only open refuses it.
//
// A full file system. Everything a commit writes (the log, the BAT, the sector bitmap blocks) is backed by
// disk space before it is needed: the log and BAT regions when the file is opened read-write, a bitmap block
// when it is appended. So a commit never needs new space, and acknowledged writes become durable with the
// next flush even when the file system is full. Only a write that needs space for its data (a new payload
// block, or a hole in one) fails, with ImageError carrying ENOSPC (or EDQUOT); the block it was appending is
// given back (punched, and reused by the next allocation), so it neither points at garbage nor keeps space.
//
// A read-write open holds an exclusive advisory lock (flock) on the file until it closes, so a second writer
// (another process, or another open in this one) is refused instead of corrupting the file.
//
// Locking. Readers take state_mutex_ shared only while mapping (memory lookups); writers that change the BAT
// or bitmaps serialise on allocation_mutex_ and do their file I/O under it, taking state_mutex_ exclusively
// only for the in-memory update that publishes the new mapping. So a reader never waits for a writer's I/O.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "imagestore/image_file.hpp"
#include "imagestore/layer.hpp"
#include "imagestore/sector_bitmap.hpp"
#include "imagestore/vhdx_format.hpp"

namespace bootherd::imagestore {

enum class OpenMode { read_only, read_write };

struct CreateOptions {
    std::uint64_t size = 0;                       // bytes, a multiple of logical_sector
    std::uint32_t block_size = 32 * 1024 * 1024;  // power of two, 1 MiB .. 256 MiB
    std::uint32_t logical_sector = 512;           // 512 or 4096
    std::uint32_t physical_sector = 4096;         // 512 or 4096
};

class VhdxFile final : public Layer {
  public:
    // Create a new file (fails if it exists) and return it opened read-write.
    static std::shared_ptr<VhdxFile> create_dynamic(const std::string& path, const CreateOptions& options);
    // A child of `parent_path` (a VHDX, opened read-only and left untouched); same geometry as the parent.
    static std::shared_ptr<VhdxFile> create_differencing(const std::string& path,
                                                         const std::string& parent_path);
    static std::shared_ptr<VhdxFile> open(const std::string& path, OpenMode mode);

    ~VhdxFile() override;
    VhdxFile(const VhdxFile&) = delete;
    VhdxFile& operator=(const VhdxFile&) = delete;

    // Layer
    const std::string& path() const override { return file_->path(); }
    const char* format_name() const override { return "VHDX"; }
    std::uint64_t virtual_size() const override { return meta_.virtual_size; }
    std::uint32_t logical_sector_size() const override { return meta_.logical_sector; }
    std::uint32_t physical_sector_size() const override { return meta_.physical_sector; }
    Mapping map(std::uint64_t offset, std::uint64_t max_length) const override;
    void read_data(std::uint64_t file_offset, std::span<std::byte> out) const override;
    bool try_map(std::uint64_t offset, std::uint64_t max_length, Mapping& out) const override;
    bool read_data_cached(std::uint64_t file_offset, std::span<std::byte> out) const override;
    std::vector<std::string> parent_candidates() const override;
    void check_parent(const Layer& parent) const override;

    // Mutations (read-write only); ranges are sector aligned and inside the disk. Throw ImageError.
    void write(std::uint64_t offset, std::span<const std::byte> data, bool fua);
    void flush();
    // The range reads as zeros afterwards (never as the parent's data).
    void unmap(std::uint64_t offset, std::uint64_t length);
    // Commits, clears the log and releases the file; the destructor does the same, swallowing errors.
    void close();

    bool writable() const { return writable_; }
    bool has_parent() const { return meta_.has_parent; }
    std::uint32_t block_size() const { return meta_.block_size; }
    const vhdx::Metadata& metadata() const { return meta_; }
    vhdx::Header header() const;
    // Payload block state, for tests and diagnostics.
    vhdx::PayloadState block_state(std::uint64_t block) const;

  private:
    VhdxFile(std::unique_ptr<ImageFile> file, bool writable);
    static std::shared_ptr<VhdxFile> create(const std::string& path, const vhdx::Metadata& meta);

    void load();
    void replay_log(const vhdx::CurrentHeader& current);
    void update_header_locked(const std::function<void(vhdx::Header&)>& change);
    void ensure_data_write_guid();
    void check_range(std::uint64_t offset, std::uint64_t length, const char* what) const;
    void require_writable(const char* what) const;

    Mapping map_locked(std::uint64_t offset, std::uint64_t max_length) const;  // state_mutex_ held
    void reserve_metadata_space(const vhdx::Layout& layout);
    // Under allocation_mutex_: appends file space; `reserved` backs it with disk space at once (metadata
    // blocks, which a commit writes), `sparse` leaves that to the data writes.
    enum class Backing { sparse, reserved };
    std::uint64_t allocate(std::uint64_t length, Backing backing);
    // Under allocation_mutex_: gives back everything appended from `at` on, after a write that failed. The
    // file keeps its size, since a concurrent commit may have logged it as the file's end.
    void release_from(std::uint64_t at) noexcept;
    // Under allocation_mutex_, without state_mutex_: file space for the chunk's sector bitmap block if it has
    // none yet (nullopt when it has one).
    std::optional<std::uint64_t> prepare_bitmap(std::uint64_t chunk);
    // Under state_mutex_ held exclusively.
    void set_entry_locked(std::uint64_t index, std::uint64_t entry);
    void set_bits_locked(std::uint64_t block, std::uint64_t first_sector, std::uint64_t count);
    // Under state_mutex_ (either mode) or allocation_mutex_.
    bool bits_all_set_locked(std::uint64_t block, std::uint64_t first_sector, std::uint64_t count) const;

    void write_in_block(std::uint64_t block, std::uint64_t in_block, std::span<const std::byte> data);
    void unmap_in_block(std::uint64_t block, std::uint64_t in_block, std::uint64_t length);
    void commit();
    void commit_if_large();

    std::unique_ptr<ImageFile> file_;
    bool writable_;
    vhdx::Metadata meta_;
    vhdx::BatGeometry geo_;
    std::uint64_t bat_file_offset_ = 0;

    mutable std::mutex header_mutex_;  // header updates
    vhdx::CurrentHeader current_;
    std::atomic<bool> data_write_guid_changed_{false};

    std::mutex allocation_mutex_;            // writers that change the BAT or bitmaps; next_free_
    mutable std::shared_mutex state_mutex_;  // BAT, bitmaps, dirty sets, freed blocks
    std::vector<std::uint64_t> bat_;
    std::vector<SectorBitmap> bitmaps_;           // per chunk
    std::set<std::uint64_t> dirty_bat_pages_;     // 4 KiB page numbers within the BAT region
    std::set<std::uint64_t> dirty_bitmap_pages_;  // chunk * 256 + page within the bitmap block
    std::vector<std::uint64_t> freed_blocks_;     // file offsets to punch after the next commit
    std::atomic<std::uint64_t> next_free_{0};     // where the next block is appended

    std::mutex commit_mutex_;  // one commit at a time; owns the log position
    std::uint32_t log_head_ = 0;
    std::uint64_t log_sequence_ = 0;
    std::size_t max_entry_pages_ = 0;  // largest entry that fits a third of the log
    bool closed_ = false;
};

}  // namespace bootherd::imagestore
