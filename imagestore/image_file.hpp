#pragma once
// An open image file: positional I/O that either completes or throws ImageError naming the file.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "imagestore/byte_source.hpp"

namespace bootherd::imagestore {

class ImageFile final : public ByteSource {
  public:
    enum class Access { read_only, read_write, create_new };
    ImageFile(std::string path, Access access);
    ~ImageFile() override;
    ImageFile(const ImageFile&) = delete;
    ImageFile& operator=(const ImageFile&) = delete;

    const std::string& path() const noexcept { return path_; }
    std::uint64_t size() const override;
    void read_exact(std::uint64_t offset, std::span<std::byte> out) const override;
    // Reads `out` completely only if that needs no disk I/O (page-cache hits, preadv2 RWF_NOWAIT); false
    // otherwise (not cached, past the end, or any error): the caller then uses read_exact.
    bool try_read_cached(std::uint64_t offset, std::span<std::byte> out) const noexcept;
    void write_all(std::uint64_t offset, std::span<const std::byte> data);
    void resize(std::uint64_t new_size);
    // Backs the range with disk space now (fallocate; the file grows if the range ends past its end), so that
    // later writes there cannot run out of space. False when the file system cannot reserve; throws
    // ImageError (with ENOSPC or EDQUOT as its code when full) on failure.
    bool reserve(std::uint64_t offset, std::uint64_t length);
    void sync();
    // Deallocates file space so it reads as zeros; returns false when the file system cannot.
    bool punch_hole(std::uint64_t offset, std::uint64_t length);
    // Takes an exclusive advisory lock (flock) held until the file is closed; false when another open file
    // description (this process or another) holds it.
    bool try_lock_exclusive();

  private:
    [[noreturn]] void fail(const std::string& what) const;

    std::string path_;
    int fd_ = -1;
};

}  // namespace bootherd::imagestore
