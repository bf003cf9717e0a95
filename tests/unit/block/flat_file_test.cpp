#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include "block/flat_file.hpp"

namespace fs = std::filesystem;
using namespace bootherd::block;

namespace {

struct TempFile {
    fs::path path;
    explicit TempFile(std::uint64_t size) {
        path = fs::temp_directory_path() / ("bootherd-flat-" + std::to_string(::getpid()) + "-" +
                                            std::to_string(std::random_device{}()) + ".img");
        std::ofstream(path).close();
        fs::resize_file(path, size);
    }
    ~TempFile() { fs::remove(path); }
};

std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
    std::vector<std::byte> v(n);
    std::mt19937 rng(seed);
    for (auto& b : v)
        b = static_cast<std::byte>(rng());
    return v;
}

}  // namespace

TEST_CASE("flat file reports geometry, rounding a partial trailing block down") {
    TempFile f(1024 * 1024 + 100);
    auto dev = FlatFile::open(f.path, false);
    auto g = dev->geometry();
    CHECK(g.size_bytes == 1024 * 1024);
    CHECK(g.logical_block_size == 512);
    CHECK(g.thin);
    CHECK_FALSE(g.read_only);
}

TEST_CASE("flat file write then read returns the same bytes, and FUA writes too") {
    TempFile f(4 << 20);
    auto dev = FlatFile::open(f.path, false);
    auto data = pattern(64 * 1024, 1);
    REQUIRE_FALSE(dev->write(512 * 7, data, false));
    auto fua = pattern(4096, 2);
    REQUIRE_FALSE(dev->write(1 << 20, fua, true));
    std::vector<std::byte> back(data.size());
    REQUIRE_FALSE(dev->read(512 * 7, back));
    CHECK(back == data);
    std::vector<std::byte> back2(fua.size());
    REQUIRE_FALSE(dev->read(1 << 20, back2));
    CHECK(back2 == fua);
    CHECK_FALSE(dev->flush());
}

TEST_CASE("unmap punches a hole that reads as zeros and shows as deallocated") {
    TempFile f(4 << 20);
    auto dev = FlatFile::open(f.path, false);
    auto data = pattern(1 << 20, 3);
    REQUIRE_FALSE(dev->write(0, data, false));
    BlockDevice::Extent e;
    REQUIRE_FALSE(dev->extent_at(0, 4 << 20, e));
    CHECK(e.state == Provisioning::mapped);
    CHECK(e.length == (1u << 20));

    REQUIRE_FALSE(dev->unmap(256 * 1024, 512 * 1024));
    std::vector<std::byte> back(512 * 1024);
    REQUIRE_FALSE(dev->read(256 * 1024, back));
    CHECK(std::all_of(back.begin(), back.end(), [](std::byte b) { return b == std::byte{0}; }));
    REQUIRE_FALSE(dev->extent_at(256 * 1024, 4 << 20, e));
    CHECK(e.state == Provisioning::deallocated);
    CHECK(e.length == 512u * 1024);
    // The data around the hole is untouched.
    std::vector<std::byte> head(256 * 1024);
    REQUIRE_FALSE(dev->read(0, head));
    CHECK(std::equal(head.begin(), head.end(), data.begin()));
}

TEST_CASE("write same repeats a block pattern, and a zero pattern deallocates when allowed") {
    TempFile f(4 << 20);
    auto dev = FlatFile::open(f.path, false);
    auto block = pattern(512, 4);
    REQUIRE_FALSE(dev->write_same(4096, 3 * 1024 * 1024, block, false));
    std::vector<std::byte> back(3 * 1024 * 1024);
    REQUIRE_FALSE(dev->read(4096, back));
    for (std::size_t i = 0; i < back.size(); i += 512)
        REQUIRE(std::equal(block.begin(), block.end(), &back[i]));

    std::vector<std::byte> zero(512);
    REQUIRE_FALSE(dev->write_same(0, 2 << 20, zero, true));
    BlockDevice::Extent e;
    REQUIRE_FALSE(dev->extent_at(0, 4 << 20, e));
    CHECK(e.state == Provisioning::deallocated);
    REQUIRE_FALSE(dev->read(4096, back));
    CHECK(std::all_of(back.begin(), back.begin() + (2 << 20) - 4096,
                      [](std::byte b) { return b == std::byte{0}; }));
}

TEST_CASE("read-only flat file refuses writes, unmap and write same") {
    TempFile f(1 << 20);
    auto dev = FlatFile::open(f.path, true);
    CHECK(dev->geometry().read_only);
    std::vector<std::byte> data(512);
    CHECK(dev->write(0, data, false) == std::errc::read_only_file_system);
    CHECK(dev->unmap(0, 512) == std::errc::read_only_file_system);
    CHECK(dev->write_same(0, 512, data, true) == std::errc::read_only_file_system);
}

TEST_CASE("opening a missing or unsuitable path throws an error naming it") {
    CHECK_THROWS_WITH_AS(FlatFile::open("/nonexistent/disk.img", true),
                         doctest::Contains("/nonexistent/disk.img"), std::system_error);
    CHECK_THROWS_WITH_AS(FlatFile::open("/tmp", true), doctest::Contains("/tmp"), std::system_error);
    TempFile tiny(100);
    CHECK_THROWS_WITH_AS(FlatFile::open(tiny.path, true), doctest::Contains("smaller than one block"),
                         std::system_error);
}
