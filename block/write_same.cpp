#include <algorithm>
#include <vector>

#include "block/block_device.hpp"
#include "common/page_aligned.hpp"

namespace bootherd::block {

std::error_code write_same_by_writes(BlockDevice& dev, std::uint64_t offset, std::uint64_t length,
                                     std::span<const std::byte> pattern) {
    if (pattern.empty()) return std::make_error_code(std::errc::invalid_argument);
    // Fill a 1 MiB staging buffer with the pattern once, then write it out in pieces.
    constexpr std::size_t kChunk = 1 << 20;
    std::size_t chunk = std::max<std::size_t>(pattern.size(), kChunk - kChunk % pattern.size());
    // Page-aligned, so that a backend writing with O_DIRECT takes it without a bounce copy.
    std::vector<std::byte, PageAlignedAllocator<std::byte>> staging(
        static_cast<std::size_t>(std::min<std::uint64_t>(chunk, length)));
    for (std::size_t i = 0; i < staging.size(); i += pattern.size())
        std::copy_n(pattern.begin(), std::min(pattern.size(), staging.size() - i), staging.begin() + i);
    while (length > 0) {
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(length, staging.size()));
        if (auto ec = dev.write(offset, std::span<const std::byte>(staging.data(), n), false)) return ec;
        offset += n;
        length -= n;
    }
    return {};
}

}  // namespace bootherd::block
