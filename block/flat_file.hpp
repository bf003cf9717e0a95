#pragma once
// A raw disk served as-is: a regular (possibly sparse) file or a block device.
// UNMAP punches holes in regular files; FUA uses RWF_DSYNC so only the written range is made durable.
#include <filesystem>
#include <memory>

#include "block/block_device.hpp"

namespace bootherd::block {

class FlatFile final : public BlockDevice {
  public:
    // Opens an existing file or block device. Throws std::system_error naming the path on failure.
    static std::shared_ptr<FlatFile> open(const std::filesystem::path& path, bool read_only,
                                          std::uint32_t logical_block_size = 512);
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
    FlatFile(int fd, std::filesystem::path path, Geometry geometry, bool is_block_device);
    std::error_code zero_range(std::uint64_t offset, std::uint64_t length);

    int fd_;
    std::filesystem::path path_;
    Geometry geometry_;
    bool is_block_device_;
};

}  // namespace bootherd::block
