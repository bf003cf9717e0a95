// Legacy VHD: a differencing child (built here byte by byte, since qemu cannot make one) over a dynamic
// parent made by qemu; reads must overlay the child's present sectors on qemu's view of the parent.
#include <doctest/doctest.h>

#include "common/bytes.hpp"
#include "imagestore/image_chain.hpp"
#include "imagestore/image_error.hpp"
#include "imagestore/utf16.hpp"
#include "test_util.hpp"

using namespace bootherd;
using namespace bootherd::imagestore;

namespace {

void set_vhd_checksum(std::byte* p, std::size_t size, std::size_t field) {
    store_be<std::uint32_t>(p + field, 0);
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < size; ++i)
        sum += std::to_integer<std::uint32_t>(p[i]);
    store_be<std::uint32_t>(p + field, ~sum);
}

struct ChildSectors {
    std::uint64_t sector;
    std::byte fill;
};

// A differencing VHD over `parent` (2 MiB blocks) holding the given sectors.
void write_differencing_vhd(const std::string& path, const std::string& parent,
                            const std::string& relative_parent, const std::vector<ChildSectors>& sectors,
                            bool wrong_parent_id) {
    auto parent_bytes = test::file_bytes(parent);
    std::vector<std::byte> footer(parent_bytes.end() - 512, parent_bytes.end());
    std::array<std::byte, 16> parent_id;
    std::memcpy(parent_id.data(), footer.data() + 68, 16);
    if (wrong_parent_id) parent_id[0] ^= std::byte{1};
    const std::uint64_t size = load_be<std::uint64_t>(footer.data() + 48);
    const std::uint32_t block_size = 2 << 20;
    const std::uint32_t blocks = static_cast<std::uint32_t>((size + block_size - 1) / block_size);
    store_be<std::uint64_t>(footer.data() + 16, 512);  // dynamic header offset
    store_be<std::uint32_t>(footer.data() + 60, 4);    // differencing
    footer[68] ^= std::byte{0xff};                     // a unique id of its own
    set_vhd_checksum(footer.data(), 512, 64);

    const std::uint64_t bat_at = 1536, locator_at = bat_at + (blocks * 4 + 511) / 512 * 512;
    auto locator = utf8_to_utf16le(relative_parent);
    std::uint64_t data_at = locator_at + 512;
    std::vector<std::byte> img(data_at);
    std::memcpy(img.data(), footer.data(), 512);
    std::byte* dh = img.data() + 512;
    std::memcpy(dh, "cxsparse", 8);
    store_be<std::uint64_t>(dh + 8, ~0ull);
    store_be<std::uint64_t>(dh + 16, bat_at);
    store_be<std::uint32_t>(dh + 24, 0x00010000);
    store_be<std::uint32_t>(dh + 28, blocks);
    store_be<std::uint32_t>(dh + 32, block_size);
    std::memcpy(dh + 40, parent_id.data(), 16);
    std::memcpy(dh + 576, "W2ru", 4);
    store_be<std::uint32_t>(dh + 576 + 4, 512);
    store_be<std::uint32_t>(dh + 576 + 8, static_cast<std::uint32_t>(locator.size()));
    store_be<std::uint64_t>(dh + 576 + 16, locator_at);
    set_vhd_checksum(dh, 1024, 36);
    std::memcpy(img.data() + locator_at, locator.data(), locator.size());
    for (std::uint32_t b = 0; b < blocks; ++b)
        store_be<std::uint32_t>(img.data() + bat_at + 4 * b, 0xffffffff);

    for (const auto& s : sectors) {
        std::uint32_t block = static_cast<std::uint32_t>(s.sector * 512 / block_size);
        std::uint32_t entry = load_be<std::uint32_t>(img.data() + bat_at + 4 * block);
        if (entry == 0xffffffff) {
            entry = static_cast<std::uint32_t>(img.size() / 512);
            store_be<std::uint32_t>(img.data() + bat_at + 4 * block, entry);
            img.resize(img.size() + 512 + block_size);
        }
        std::uint64_t in_block = s.sector % (block_size / 512);
        std::byte* bitmap = img.data() + std::uint64_t{entry} * 512;
        bitmap[in_block / 8] |= static_cast<std::byte>(0x80 >> (in_block % 8));
        std::memset(bitmap + 512 + in_block * 512, std::to_integer<int>(s.fill), 512);
    }
    img.insert(img.end(), footer.begin(), footer.end());
    std::ofstream(path, std::ios::binary)
        .write(reinterpret_cast<const char*>(img.data()), static_cast<std::streamsize>(img.size()));
}

}  // namespace

TEST_CASE("differencing VHD over a qemu-made dynamic VHD") {
    if (!test::have_tool("command -v qemu-img") || !test::have_tool("command -v qemu-io")) {
        MESSAGE("SKIPPED: qemu-img / qemu-io (qemu-utils) are not installed");
        return;
    }
    test::TempDir dir;
    std::string base = dir.file("base.vhd"), raw = dir.file("base.raw"), child = dir.file("child.vhd");
    REQUIRE(test::run("qemu-img create -q -f vpc -o subformat=dynamic '" + base + "' 10M").status == 0);
    REQUIRE(
        test::run("qemu-io -f vpc -c 'write -P 0x5b 0 5M' -c 'write -P 0x33 7M 8k' '" + base + "'").status ==
        0);
    REQUIRE(test::run("qemu-img convert -f vpc -O raw '" + base + "' '" + raw + "'").status == 0);
    auto expect = test::file_bytes(raw);

    std::vector<ChildSectors> sectors{{1, std::byte{0xc1}},    {2, std::byte{0xc2}},
                                      {100, std::byte{0xc3}},  {4095, std::byte{0xc4}},
                                      {4096, std::byte{0xc5}}, {14340, std::byte{0xc6}}};
    write_differencing_vhd(child, base, ".\\base.vhd", sectors, false);
    for (const auto& s : sectors)
        std::fill_n(expect.begin() + static_cast<std::ptrdiff_t>(s.sector * 512), 512, s.fill);
    auto chain = open_image(child, true);
    REQUIRE(chain->layers().size() == 2);
    CHECK(chain->geometry().size_bytes == expect.size());
    CHECK(test::read_all(*chain) == expect);
    CHECK_THROWS_AS(open_image(child, false), ImageError);  // VHD is read-only here

    write_differencing_vhd(child + "2", base, ".\\base.vhd", sectors, true);
    CHECK_THROWS_WITH_AS(open_image(child + "2", true), doctest::Contains("does not match"), ImageError);
    write_differencing_vhd(child + "3", base, ".\\missing.vhd", sectors, false);
    CHECK_THROWS_WITH_AS(open_image(child + "3", true), doctest::Contains("parent image not found"),
                         ImageError);
}
