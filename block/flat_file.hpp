#pragma once
// A raw disk served as-is: a regular (possibly sparse) file or a block device.
// UNMAP punches holes in regular files; FUA uses RWF_DSYNC so only the written range is made durable.
//
// Writes go through the page cache unless WritePath::direct is asked for: then they go with O_DIRECT to the
// device, while reads still use the page cache (the kernel keeps the two coherent). Why: on recent kernels
// (ext4 with large folios, 6.16+) a buffered 4 KiB write into pages that were read in as large folios costs
// about ten times the CPU of one into small pages, and all writes to a file queue on its inode lock; direct
// writes avoid both. The price: without a device write cache every write waits for the medium.
#include <filesystem>
#include <memory>
#include <mutex>

#include "block/block_device.hpp"

namespace bootherd::block {

enum class WritePath { page_cache, direct };

class FlatFile final : public BlockDevice {
  public:
    // Opens an existing file or block device. Throws std::system_error naming the path on failure, also when
    // WritePath::direct is asked for and the file system cannot do O_DIRECT at that block size.
    static std::shared_ptr<FlatFile> open(const std::filesystem::path& path, bool read_only,
                                          std::uint32_t logical_block_size = 512,
                                          WritePath write_path = WritePath::page_cache);
    ~FlatFile() override;
    FlatFile(const FlatFile&) = delete;
    FlatFile& operator=(const FlatFile&) = delete;

    Geometry geometry() const override { return geometry_; }
    std::error_code read(std::uint64_t offset, std::span<std::byte> out) override;
    bool try_read_nowait(std::uint64_t offset, std::span<std::byte> out) override;
    std::error_code write(std::uint64_t offset, std::span<const std::byte> data, bool fua) override;
    std::error_code flush() override;
    std::error_code unmap(std::uint64_t offset, std::uint64_t length) override;
    std::error_code write_same(std::uint64_t offset, std::uint64_t length, std::span<const std::byte> pattern,
                               bool may_unmap) override;
    std::error_code extent_at(std::uint64_t offset, std::uint64_t max_length, Extent& out) override;
    std::string describe() const override;

  private:
    // The O_DIRECT descriptor (-1: writes use the page cache) and the memory alignment it needs; its offset
    // alignment divides the logical block size, so every write is aligned.
    struct Direct {
        int fd = -1;
        std::size_t memory_alignment = 0;
    };
    static constexpr std::size_t kBounceSize = 1 << 20;

    FlatFile(int fd, std::filesystem::path path, Geometry geometry, bool is_block_device, Direct direct);
    static Direct open_direct(const std::filesystem::path& path, bool is_block, std::uint32_t block_size);
    std::error_code zero_range(std::uint64_t offset, std::uint64_t length);
    int fd_;
    // Buffered writes to a regular file hold its inode lock in the kernel, so they run one at a time anyway;
    // queueing them here makes the other disk threads sleep instead of spinning on that lock (perf, 4 KiB
    // random writes at QD 32: 15% of all CPU in rwsem_spin_on_owner without this).
    std::mutex buffered_writes_;
    Direct direct_;
    std::filesystem::path path_;
    Geometry geometry_;
    bool is_block_device_;
};

}  // namespace bootherd::block
