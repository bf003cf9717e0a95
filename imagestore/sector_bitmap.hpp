#pragma once
// The sector bitmap of one VHDX chunk (MS-VHDX 2.5.1.1): one bit per logical sector of the chunk's payload
// blocks, 1 MiB on disk. Held as 4 KiB pages allocated on first use, because a differencing disk usually has
// only a few partially present blocks and a server keeps hundreds of node disks open at once.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace bootherd::imagestore {

class SectorBitmap {
  public:
    static constexpr std::size_t kPageBytes = 4096;
    static constexpr std::size_t kPages = 256;  // 1 MiB
    static constexpr std::size_t kBytes = kPageBytes * kPages;

    // Not present: the chunk has no bitmap block yet; every bit reads 0.
    bool present() const { return !pages_.empty(); }
    void make_present() { pages_.resize(kPages); }

    // Takes the on-disk bitmap block (kBytes); all-zero pages take no memory.  Makes the bitmap present.
    void load(std::span<const std::byte> block);

    bool test(std::uint64_t bit) const {
        return (std::to_integer<unsigned>(byte_at(bit / 8)) >> (bit % 8)) & 1u;
    }
    std::byte byte_at(std::uint64_t index) const {
        if (pages_.empty()) return std::byte{0};
        const auto& page = pages_[index / kPageBytes];
        return page ? (*page)[index % kPageBytes] : std::byte{0};
    }
    void set(std::uint64_t bit);  // on a present bitmap

    // The page's bytes as they go to disk.
    void copy_page(std::uint64_t page, std::span<std::byte, kPageBytes> out) const;

    // Pages holding memory (for tests and accounting).
    std::size_t allocated_pages() const;

  private:
    using Page = std::array<std::byte, kPageBytes>;
    std::vector<std::unique_ptr<Page>> pages_;  // kPages entries once present; none for an absent bitmap
};

}  // namespace bootherd::imagestore
