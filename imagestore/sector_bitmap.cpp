#include "imagestore/sector_bitmap.hpp"

#include <algorithm>
#include <stdexcept>

namespace bootherd::imagestore {

void SectorBitmap::load(std::span<const std::byte> block) {
    if (block.size() != kBytes) throw std::invalid_argument("a sector bitmap block is 1 MiB");
    make_present();
    for (std::size_t p = 0; p < kPages; ++p) {
        const auto bytes = block.subspan(p * kPageBytes, kPageBytes);
        if (std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; })) {
            pages_[p].reset();
            continue;
        }
        if (!pages_[p]) pages_[p] = std::make_unique<Page>();
        std::copy(bytes.begin(), bytes.end(), pages_[p]->begin());
    }
}

void SectorBitmap::set(std::uint64_t bit) {
    auto& page = pages_[bit / 8 / kPageBytes];
    if (!page) page = std::make_unique<Page>();  // value-initialised: all zero
    (*page)[bit / 8 % kPageBytes] |= static_cast<std::byte>(1u << (bit % 8));
}

void SectorBitmap::copy_page(std::uint64_t page, std::span<std::byte, kPageBytes> out) const {
    if (!pages_.empty() && pages_[page])
        std::copy(pages_[page]->begin(), pages_[page]->end(), out.begin());
    else
        std::fill(out.begin(), out.end(), std::byte{0});
}

std::size_t SectorBitmap::allocated_pages() const {
    return static_cast<std::size_t>(
        std::count_if(pages_.begin(), pages_.end(), [](const auto& p) { return p != nullptr; }));
}

}  // namespace bootherd::imagestore
