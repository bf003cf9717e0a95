#pragma once
// A disk served from a chain of image files: child -> parent -> ... -> base. Reads resolve each sector from
// the nearest layer that has it; writes, unmaps and flushes go to the top layer, which must be a VHDX opened
// read-write (every parent is always read-only).
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "block/block_device.hpp"
#include "common/rate_limited_log.hpp"
#include "imagestore/layer.hpp"
#include "imagestore/vhdx_file.hpp"

namespace bootherd::imagestore {

class ImageChain final : public block::BlockDevice {
  public:
    // layers[0] is the top. `writable_top` is layers[0] when the chain is writable, else null.
    ImageChain(std::vector<std::shared_ptr<Layer>> layers, std::shared_ptr<VhdxFile> writable_top);

    block::Geometry geometry() const override;
    std::error_code read(std::uint64_t offset, std::span<std::byte> out) override;
    // Completes only when every layer can map without waiting for a writer and every byte is in the page
    // cache.
    bool try_read_nowait(std::uint64_t offset, std::span<std::byte> out) override;
    std::error_code write(std::uint64_t offset, std::span<const std::byte> data, bool fua) override;
    std::error_code flush() override;
    std::error_code unmap(std::uint64_t offset, std::uint64_t length) override;
    std::error_code write_same(std::uint64_t offset, std::uint64_t length, std::span<const std::byte> pattern,
                               bool may_unmap) override;
    std::error_code extent_at(std::uint64_t offset, std::uint64_t max_length, Extent& out) override;
    std::string describe() const override;

    const std::vector<std::shared_ptr<Layer>>& layers() const { return layers_; }
    // Commits and closes the writable top; throws ImageError on failure.
    void close();

  private:
    void read_from(std::size_t level, std::uint64_t offset, std::span<std::byte> out) const;
    bool try_read_from(std::size_t level, std::uint64_t offset, std::span<std::byte> out) const noexcept;
    std::error_code check(std::uint64_t offset, std::uint64_t length, bool for_write) const;
    // Runs an image operation; an ImageError becomes the error code the BlockDevice contract asks for.
    template <class F>
    std::error_code guarded(const char* what, F&& operation);
    void log_failure(const char* what, const char* why);

    std::vector<std::shared_ptr<Layer>> layers_;
    std::shared_ptr<VhdxFile> top_;
    // An initiator retrying writes to a full disk must not flood the log.
    std::mutex error_log_mutex_;
    RateLimitedLog error_log_{10, std::chrono::seconds(10)};
};

// Opens the image at `path` (raw, VHD or VHDX, detected from its contents) with its whole parent chain.
// With read_only = false the top must be a VHDX. Throws ImageError.
std::shared_ptr<ImageChain> open_image(const std::string& path, bool read_only);

}  // namespace bootherd::imagestore
