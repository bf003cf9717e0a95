#include <doctest/doctest.h>

#include <vector>

#include "imagestore/sector_bitmap.hpp"

using bootherd::imagestore::SectorBitmap;

TEST_CASE("a sector bitmap holds memory only for pages with bits set") {
    SectorBitmap b;
    CHECK_FALSE(b.present());
    CHECK_FALSE(b.test(12345));
    CHECK(b.allocated_pages() == 0);
    b.make_present();
    b.set(0);
    b.set(8 * 4096 + 3);  // second page
    b.set(8 * SectorBitmap::kBytes - 1);
    CHECK(b.allocated_pages() == 3);
    CHECK(b.test(0));
    CHECK_FALSE(b.test(1));
    CHECK(b.test(8 * 4096 + 3));
    CHECK(b.byte_at(4096) == std::byte{0x08});
    CHECK(b.test(8 * SectorBitmap::kBytes - 1));

    std::array<std::byte, SectorBitmap::kPageBytes> page{};
    b.copy_page(1, page);
    CHECK(page[0] == std::byte{0x08});
    page.fill(std::byte{0xaa});
    b.copy_page(2, page);  // never touched: zeros
    CHECK(page[17] == std::byte{0});
}

TEST_CASE("loading drops the all-zero pages and keeps the others bit for bit") {
    std::vector<std::byte> block(SectorBitmap::kBytes);
    block[5 * 4096 + 100] = std::byte{0x81};
    block[255 * 4096] = std::byte{0x01};
    SectorBitmap b;
    b.load(block);
    CHECK(b.present());
    CHECK(b.allocated_pages() == 2);
    for (std::uint64_t i = 0; i < 8 * SectorBitmap::kBytes; i += 997)
        CHECK(b.test(i) == (((std::to_integer<unsigned>(block[i / 8]) >> (i % 8)) & 1u) != 0));
    CHECK(b.test((5 * 4096 + 100) * 8));
    CHECK(b.test((5 * 4096 + 100) * 8 + 7));
    CHECK(b.test(255 * 4096 * 8));
    CHECK_THROWS(b.load(std::vector<std::byte>(100)));
}
