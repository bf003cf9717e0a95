#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "block/flat_file.hpp"
#include "common/page_aligned.hpp"
#include "tests/unit/small_filesystem.hpp"

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

// Whether the page holding `offset` of `path` is in the page cache.
bool page_cached(const fs::path& path, std::uint64_t offset) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    void* map = ::mmap(nullptr, page, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(offset - offset % page));
    ::close(fd);
    REQUIRE(map != MAP_FAILED);
    unsigned char resident = 0;
    REQUIRE(::mincore(map, page, &resident) == 0);
    ::munmap(map, page);
    return (resident & 1) != 0;
}

// Opens `path` for direct writes, or returns null (with a message) where the file system has no O_DIRECT.
std::shared_ptr<FlatFile> open_direct(const fs::path& path) {
    try {
        return FlatFile::open(path, false, 512, WritePath::direct);
    } catch (const std::system_error& e) {
        const std::string what = e.what();
        CHECK(what.find(path.string()) != std::string::npos);
        CHECK(what.find("O_DIRECT") != std::string::npos);
        MESSAGE("no O_DIRECT on this file system, direct-write checks skipped: " << what);
        return nullptr;
    }
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

TEST_CASE("concurrent writers, plain and FUA, each land their own blocks") {
    TempFile f(4 << 20);
    auto dev = FlatFile::open(f.path, false, 4096);
    constexpr unsigned kThreads = 8, kBlocksEach = 64;
    std::vector<std::thread> writers;
    for (unsigned t = 0; t < kThreads; ++t) {
        writers.emplace_back([&, t] {
            for (unsigned b = 0; b < kBlocksEach; ++b) {
                // Interleaved: thread t owns blocks t, t + kThreads, ...; every fourth write is FUA.
                const std::uint64_t block = std::uint64_t{b} * kThreads + t;
                CHECK_FALSE(dev->write(block * 4096, pattern(4096, 1000 + unsigned(block)), b % 4 == 0));
            }
        });
    }
    for (auto& w : writers)
        w.join();
    std::vector<std::byte> back(4096);
    for (std::uint64_t block = 0; block < kThreads * kBlocksEach; ++block) {
        REQUIRE_FALSE(dev->read(block * 4096, back));
        CHECK(back == pattern(4096, 1000 + unsigned(block)));
    }
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

TEST_CASE("direct writes bypass the page cache and stay coherent with cached reads") {
    TempFile f(4 << 20);
    auto dev = open_direct(f.path);
    if (!dev) return;
    CHECK(dev->describe().find("direct writes") != std::string::npos);
    auto before = pattern(1 << 20, 5);
    // One byte past a page boundary: no O_DIRECT memory alignment allows that, so it goes through the bounce
    // buffer.
    std::vector<std::byte, bootherd::PageAlignedAllocator<std::byte>> shifted(before.size() + 1);
    std::copy(before.begin(), before.end(), shifted.begin() + 1);
    REQUIRE_FALSE(dev->write(0, std::span<const std::byte>(shifted).subspan(1), false));
    std::vector<std::byte> back(before.size());
    REQUIRE_FALSE(dev->read(0, back));  // now cached
    CHECK(back == before);
    REQUIRE(page_cached(f.path, 64 * 1024));

    // A page-aligned buffer, as task buffers are, is written as it is; the kernel drops the cached page.
    const auto bytes = pattern(8192, 6);
    std::vector<std::byte, bootherd::PageAlignedAllocator<std::byte>> aligned(bytes.begin(), bytes.end());
    REQUIRE_FALSE(dev->write(64 * 1024, aligned, false));
    CHECK_FALSE(page_cached(f.path, 64 * 1024));
    REQUIRE_FALSE(dev->read(0, back));
    std::copy(bytes.begin(), bytes.end(), before.begin() + 64 * 1024);
    CHECK(back == before);

    // FUA on an odd sector, and write same.
    const auto sector = pattern(512, 7);
    REQUIRE_FALSE(dev->write(3 * 512, sector, true));
    const auto block = pattern(512, 8);
    REQUIRE_FALSE(dev->write_same(2 << 20, 1536 * 1024, block, false));
    std::vector<std::byte> one(512);
    REQUIRE_FALSE(dev->read(3 * 512, one));
    CHECK(one == sector);
    std::vector<std::byte> same(1536 * 1024);
    REQUIRE_FALSE(dev->read(2 << 20, same));
    for (std::size_t i = 0; i < same.size(); i += 512)
        REQUIRE(std::equal(block.begin(), block.end(), &same[i]));
    CHECK_FALSE(dev->flush());
}

TEST_CASE("without direct writes, a write leaves its page in the page cache") {
    TempFile f(1 << 20);
    auto dev = FlatFile::open(f.path, false);
    std::vector<std::byte, bootherd::PageAlignedAllocator<std::byte>> aligned(4096, std::byte{1});
    REQUIRE_FALSE(dev->write(8192, aligned, false));
    CHECK(page_cached(f.path, 8192));
    CHECK(dev->describe().find("direct") == std::string::npos);
}

TEST_CASE("a read-only flat file ignores the direct write path") {
    TempFile f(1 << 20);
    auto dev = FlatFile::open(f.path, true, 512, WritePath::direct);
    CHECK(dev->describe().find("direct") == std::string::npos);
}

TEST_CASE("flat file on a full file system: a write into a hole fails with no_space_on_device") {
    std::string why;
    auto fs = bootherd::test::SmallFilesystem::mount(4 << 20, why);
    if (!fs) {
        MESSAGE("SKIPPED: ", why);
        return;
    }
    const std::string path = fs->file("disk.raw");
    std::ofstream(path).close();
    std::filesystem::resize_file(path, std::uint64_t{16} << 20);  // sparse
    auto disk = bootherd::block::FlatFile::open(path, false);
    fs->fill("ballast");
    const std::vector<std::byte> data(64 * 1024, std::byte{0x5a});
    std::uint64_t at = 0;
    std::error_code ec;
    while (!ec && at < (std::uint64_t{16} << 20)) {
        ec = disk->write(at, data, false);
        if (!ec) at += data.size();
    }
    CHECK(ec == std::errc::no_space_on_device);
    CHECK(!disk->flush());
    std::filesystem::remove(fs->file("ballast"));
    CHECK(!disk->write(at, data, false));
    CHECK(!disk->flush());
    std::vector<std::byte> back(data.size());
    REQUIRE(!disk->read(at, back));
    CHECK(back == data);
}
