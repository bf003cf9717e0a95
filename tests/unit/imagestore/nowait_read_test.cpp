// The non-blocking read path (served on the iSCSI network thread) and the single-writer lock.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "imagestore/image_chain.hpp"
#include "imagestore/image_error.hpp"
#include "imagestore/vhdx_file.hpp"
#include "test_util.hpp"

using namespace bootherd;
using namespace bootherd::imagestore;

namespace {
constexpr std::uint64_t kMiB = 1 << 20;

// The kernel may refuse an RWF_NOWAIT read even of cached pages (a page under writeback or marked for
// readahead), so a refusal is allowed; a blocking read brings the range in before the next try. Returns
// whether a non-blocking read completed within a few tries; `out` then holds what it read.
bool read_nowait_soon(ImageChain& chain, std::uint64_t offset, std::span<std::byte> out) {
    for (int attempt = 0; attempt < 50; ++attempt) {
        if (chain.try_read_nowait(offset, out)) return true;
        if (chain.read(offset, out)) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}
}  // namespace

TEST_CASE("try_read_nowait through a 4-level chain returns what read() returns, sector by sector") {
    // On disk (tmpfs does not take RWF_NOWAIT reads); everything just written is in the page cache.
    test::TempDir dir;
    constexpr std::uint64_t kSize = 8 * kMiB;
    std::mt19937_64 rng(11);
    const std::string files[] = {dir.file("base.vhdx"), dir.file("d1.vhdx"), dir.file("d2.vhdx"),
                                 dir.file("node.vhdx")};
    {
        auto base = VhdxFile::create_dynamic(files[0], {kSize, static_cast<std::uint32_t>(kMiB), 512, 4096});
        base->write(0, test::random_bytes(rng, kSize / 2), false);
    }
    for (int level = 1; level < 4; ++level) {
        auto disk = VhdxFile::create_differencing(files[level], files[level - 1]);
        for (int i = 0; i < 200; ++i) {
            const std::uint64_t count = 1 + rng() % 16, first = rng() % (kSize / 512 - count);
            if (i % 7 == 0)
                disk->unmap(first * 512, count * 512);
            else
                disk->write(first * 512, test::random_bytes(rng, count * 512), false);
        }
    }
    auto chain = open_image(files[3], true);
    const auto expected = test::read_all(*chain);
    std::vector<std::byte> got(kSize, std::byte{0x5a});
    REQUIRE(read_nowait_soon(*chain, 0, got));
    CHECK(got == expected);
    for (int i = 0; i < 500; ++i) {
        const std::uint64_t count = 1 + rng() % 256, first = rng() % (kSize / 512 - count);
        std::vector<std::byte> piece(count * 512);
        REQUIRE(read_nowait_soon(*chain, first * 512, piece));
        CHECK(std::equal(piece.begin(), piece.end(),
                         expected.begin() + static_cast<std::ptrdiff_t>(first * 512)));
    }
    // Out of range or unaligned: refused, so the blocking path reports the error.
    std::vector<std::byte> one(512);
    CHECK_FALSE(chain->try_read_nowait(kSize, one));
    CHECK_FALSE(chain->try_read_nowait(1, one));
}

TEST_CASE("try_read_nowait on a writable chain sees every completed write") {
    test::TempDir dir;
    constexpr std::uint64_t kSize = 4 * kMiB;
    std::mt19937_64 rng(12);
    const std::string base = dir.file("base.vhdx"), child = dir.file("child.vhdx");
    std::vector<std::byte> ref = test::random_bytes(rng, kSize);
    VhdxFile::create_dynamic(base, {kSize, static_cast<std::uint32_t>(kMiB), 4096, 4096})
        ->write(0, ref, false);
    VhdxFile::create_differencing(child, base)->close();
    auto chain = open_image(child, false);
    for (int i = 0; i < 300; ++i) {
        const std::uint64_t count = 1 + rng() % 8, first = rng() % (kSize / 4096 - count);
        auto data = test::random_bytes(rng, count * 4096);
        REQUIRE_FALSE(chain->write(first * 4096, data, false));
        std::copy(data.begin(), data.end(), ref.begin() + static_cast<std::ptrdiff_t>(first * 4096));
        std::vector<std::byte> got(kSize);
        REQUIRE(read_nowait_soon(*chain, 0, got));
        REQUIRE(got == ref);
    }
}

TEST_CASE("a VHDX has one writer at a time: a second read-write open is refused, read-only opens are not") {
    test::TempDir dir(true);
    const std::string path = dir.file("disk.vhdx");
    auto writer = VhdxFile::create_dynamic(path, {8 * kMiB, static_cast<std::uint32_t>(kMiB), 512, 4096});
    try {
        VhdxFile::open(path, OpenMode::read_write);
        FAIL("second writer allowed");
    } catch (const ImageError& e) {
        CHECK(std::string(e.what()).find("already open for writing") != std::string::npos);
        CHECK(std::string(e.what()).find(path) != std::string::npos);
    }
    CHECK_THROWS_AS(open_image(path, false), ImageError);
    writer->close();
    CHECK(VhdxFile::open(path, OpenMode::read_only));  // a closed writer's log is clear: readable
    writer.reset();                                    // the lock goes with the file descriptor
    CHECK(VhdxFile::open(path, OpenMode::read_write));
}
