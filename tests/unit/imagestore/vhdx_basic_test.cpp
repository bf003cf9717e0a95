#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include "imagestore/image_chain.hpp"
#include "imagestore/image_error.hpp"
#include "imagestore/vhdx_file.hpp"
#include "test_util.hpp"

using namespace bootherd;
using namespace bootherd::imagestore;
using test::TempDir;
using vhdx::PayloadState;

namespace {
constexpr std::uint64_t kMiB = 1 << 20;

std::vector<std::byte> read_range(block::BlockDevice& dev, std::uint64_t off, std::size_t n) {
    std::vector<std::byte> out(n);
    REQUIRE(!dev.read(off, out));
    return out;
}
}  // namespace

TEST_CASE("dynamic VHDX: create, write, read back, reopen") {
    TempDir dir;
    for (std::uint32_t sector : {512u, 4096u}) {
        for (std::uint32_t block : {1u << 20, 8u << 20, 256u << 20}) {
            CAPTURE(sector);
            CAPTURE(block);
            std::string path = dir.file("d" + std::to_string(sector) + "_" + std::to_string(block) + ".vhdx");
            std::mt19937_64 rng(sector + block);
            auto data = test::random_bytes(rng, 3 * sector);
            const std::uint64_t size = 600 * kMiB;
            {
                VhdxFile::create_dynamic(path, {size, block, sector, 4096});
                auto chain = open_image(path, false);
                auto g = chain->geometry();
                CHECK(g.size_bytes == size);
                CHECK(g.logical_block_size == sector);
                CHECK(g.thin);
                CHECK(!g.read_only);
                CHECK(read_range(*chain, 0, sector) == std::vector<std::byte>(sector));
                REQUIRE(!chain->write(size - data.size(), data, false));
                REQUIRE(!chain->write(block - sector, data, true));  // spans two blocks
                CHECK(read_range(*chain, size - data.size(), data.size()) == data);
                chain->close();
            }
            auto chain = open_image(path, true);
            CHECK(chain->geometry().read_only);
            CHECK(read_range(*chain, size - data.size(), data.size()) == data);
            CHECK(read_range(*chain, block - sector, data.size()) == data);
            CHECK(read_range(*chain, 0, sector) == std::vector<std::byte>(sector));
            CHECK(chain->write(0, data, false) == std::errc::read_only_file_system);
        }
    }
}

TEST_CASE("headers: FileWriteGuid changes on read-write open, DataWriteGuid on the first data write only") {
    TempDir dir;
    std::string path = dir.file("g.vhdx");
    VhdxFile::create_dynamic(path, {64 * kMiB, kMiB, 512, 512})->close();
    vhdx::Header h0 = VhdxFile::open(path, OpenMode::read_only)->header();
    vhdx::Header h1;
    {
        auto f = VhdxFile::open(path, OpenMode::read_write);
        h1 = f->header();
        CHECK(h1.file_write != h0.file_write);
        CHECK(h1.data_write == h0.data_write);
        CHECK(h1.sequence == h0.sequence + 1);
        std::vector<std::byte> sector(512, std::byte{1});
        f->write(0, sector, false);
        vhdx::Header h2 = f->header();
        CHECK(h2.data_write != h0.data_write);
        f->write(512, sector, false);
        CHECK(f->header().data_write == h2.data_write);
    }
    vhdx::Header h3 = VhdxFile::open(path, OpenMode::read_only)->header();
    CHECK(h3.log.is_zero());
    CHECK(h3.data_write != h0.data_write);
    // A read-only open changes nothing.
    CHECK(VhdxFile::open(path, OpenMode::read_only)->header().sequence == h3.sequence);
}

TEST_CASE("unmap and write-same of zeros in a dynamic disk") {
    TempDir dir;
    std::string path = dir.file("u.vhdx");
    VhdxFile::create_dynamic(path, {16 * kMiB, kMiB, 512, 4096})->close();
    auto chain = open_image(path, false);
    auto top = std::dynamic_pointer_cast<VhdxFile>(chain->layers()[0]);
    std::mt19937_64 rng(7);
    auto data = test::random_bytes(rng, 4 * kMiB);
    REQUIRE(!chain->write(0, data, false));
    CHECK(top->block_state(0) == PayloadState::fully_present);
    REQUIRE(!chain->unmap(kMiB, kMiB));  // whole block
    CHECK(top->block_state(1) == PayloadState::zero);
    REQUIRE(!chain->unmap(2 * kMiB + 4096, 8192));  // part of a block: punched, still allocated
    CHECK(top->block_state(2) == PayloadState::fully_present);
    std::vector<std::byte> zero_sector(512);
    REQUIRE(!chain->write_same(3 * kMiB, kMiB, zero_sector, true));
    CHECK(top->block_state(3) == PayloadState::zero);
    auto expect = data;
    std::fill(expect.begin() + kMiB, expect.begin() + 2 * kMiB, std::byte{0});
    std::fill(expect.begin() + 2 * kMiB + 4096, expect.begin() + 2 * kMiB + 4096 + 8192, std::byte{0});
    std::fill(expect.begin() + 3 * kMiB, expect.end(), std::byte{0});
    CHECK(read_range(*chain, 0, 4 * kMiB) == expect);
    block::BlockDevice::Extent ext;
    REQUIRE(!chain->extent_at(kMiB, 16 * kMiB - kMiB, ext));
    CHECK(ext.state == block::Provisioning::deallocated);
    REQUIRE(!chain->extent_at(0, 16 * kMiB, ext));
    CHECK(ext.state == block::Provisioning::mapped);
    std::vector<std::byte> pattern(512, std::byte{0x5a});
    REQUIRE(!chain->write_same(5 * kMiB + 512, 1024, pattern, true));
    CHECK(read_range(*chain, 5 * kMiB, 2048) == [&] {
        std::vector<std::byte> v(2048);
        std::fill(v.begin() + 512, v.begin() + 1536, std::byte{0x5a});
        return v;
    }());
    chain->close();
    auto reread = open_image(path, true);
    CHECK(read_range(*reread, 0, 4 * kMiB) == expect);
}

TEST_CASE("differencing chain: partial writes do not copy the parent, unmap hides the parent") {
    TempDir dir;
    std::string base = dir.file("base.vhdx"), mid = dir.file("mid.vhdx"), top = dir.file("top.vhdx");
    std::mt19937_64 rng(11);
    auto base_data = test::random_bytes(rng, 8 * kMiB);
    {
        auto f = VhdxFile::create_dynamic(base, {8 * kMiB, kMiB, 512, 4096});
        f->write(0, base_data, false);
        f->close();
    }
    auto base_before = test::file_bytes(base);
    auto base_guid = VhdxFile::open(base, OpenMode::read_only)->header().data_write;
    VhdxFile::create_differencing(mid, base)->close();
    CHECK(test::file_bytes(base) == base_before);  // a parent is never touched

    auto expect = base_data;
    {
        auto chain = open_image(mid, false);
        REQUIRE(chain->layers().size() == 2);
        auto f = std::dynamic_pointer_cast<VhdxFile>(chain->layers()[0]);
        auto piece = test::random_bytes(rng, 1024);
        REQUIRE(!chain->write(512, piece, false));
        std::copy(piece.begin(), piece.end(), expect.begin() + 512);
        CHECK(f->block_state(0) == PayloadState::partially_present);
        REQUIRE(!chain->unmap(2 * kMiB, kMiB));  // whole block: ZERO, not the parent
        std::fill(expect.begin() + 2 * kMiB, expect.begin() + 3 * kMiB, std::byte{0});
        CHECK(f->block_state(2) == PayloadState::zero);
        REQUIRE(!chain->unmap(4 * kMiB + 512, 512));  // partial: zeros written
        std::fill(expect.begin() + 4 * kMiB + 512, expect.begin() + 4 * kMiB + 1024, std::byte{0});
        REQUIRE(!chain->write(2 * kMiB + 4096, piece, false));  // into a ZERO block: the rest stays zero
        std::copy(piece.begin(), piece.end(), expect.begin() + 2 * kMiB + 4096);
        CHECK(test::read_all(*chain) == expect);
        chain->close();
    }
    VhdxFile::create_differencing(top, mid)->close();
    {
        auto chain = open_image(top, false);
        REQUIRE(chain->layers().size() == 3);
        CHECK(chain->describe().find("base.vhdx") != std::string::npos);
        auto piece = test::random_bytes(rng, 2048);
        REQUIRE(!chain->write(kMiB - 1024, piece, true));
        std::copy(piece.begin(), piece.end(), expect.begin() + kMiB - 1024);
        CHECK(test::read_all(*chain) == expect);
        // The partial write allocated blocks but copied nothing: sparse space only.
        chain->close();
    }
    CHECK(test::read_all(*open_image(top, true)) == expect);
    CHECK(test::file_bytes(base) == base_before);
    CHECK(VhdxFile::open(base, OpenMode::read_only)->header().data_write == base_guid);

    // A parent modified after the child was made is refused, naming both files.
    {
        auto f = VhdxFile::open(base, OpenMode::read_write);
        std::vector<std::byte> sector(512, std::byte{9});
        f->write(0, sector, false);
    }
    try {
        open_image(mid, true);
        FAIL("mismatched parent accepted");
    } catch (const ImageError& e) {
        std::string what = e.what();
        CHECK(what.find("mid.vhdx") != std::string::npos);
        CHECK(what.find("base.vhdx") != std::string::npos);
        CHECK(what.find("does not match") != std::string::npos);
    }
    std::filesystem::remove(base);
    CHECK_THROWS_WITH_AS(open_image(mid, true), doctest::Contains("parent image not found"), ImageError);
}

TEST_CASE("BAT interleaving: several chunks and sector bitmap blocks") {
    // 256 MiB blocks with 512-byte sectors: 16 payload blocks per chunk; 36 blocks span three chunks.
    TempDir dir;
    std::string base = dir.file("big.vhdx"), child = dir.file("big-child.vhdx");
    const std::uint64_t bs = 256 * kMiB, size = 36 * bs;
    std::mt19937_64 rng(3);
    std::vector<std::pair<std::uint64_t, std::vector<std::byte>>> writes;
    for (std::uint64_t block : {0ull, 15ull, 16ull, 17ull, 33ull, 35ull})
        writes.emplace_back(block * bs + 4096 * block, test::random_bytes(rng, 4096));
    {
        auto f = VhdxFile::create_dynamic(base, {size, static_cast<std::uint32_t>(bs), 512, 4096});
        for (auto& [off, data] : writes)
            f->write(off, data, false);
    }
    VhdxFile::create_differencing(child, base)->close();
    std::vector<std::pair<std::uint64_t, std::vector<std::byte>>> child_writes;
    {
        auto chain = open_image(child, false);
        for (std::uint64_t block : {1ull, 16ull, 34ull}) {
            child_writes.emplace_back(block * bs + 512, test::random_bytes(rng, 1024));
            REQUIRE(!chain->write(child_writes.back().first, child_writes.back().second, false));
        }
    }
    auto chain = open_image(child, true);
    for (auto& [off, data] : writes)
        CHECK(read_range(*chain, off, data.size()) == data);
    for (auto& [off, data] : child_writes)
        CHECK(read_range(*chain, off, data.size()) == data);
    CHECK(read_range(*chain, 16 * bs, 512) == std::vector<std::byte>(512));
}

TEST_CASE("log: a process that dies after flush leaves a log that is replayed on read-write open") {
    TempDir dir;
    std::string path = dir.file("log.vhdx");
    VhdxFile::create_dynamic(path, {32 * kMiB, kMiB, 512, 512})->close();
    std::vector<std::byte> data(8192, std::byte{0x3c});
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        auto f = VhdxFile::open(path, OpenMode::read_write);
        f->write(5 * kMiB, data, false);
        f->flush();
        ::_exit(0);  // no close: the log stays active
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    CHECK_THROWS_WITH_AS(VhdxFile::open(path, OpenMode::read_only), doctest::Contains("active log"),
                         ImageError);
    CHECK_THROWS_WITH_AS(open_image(path, true), doctest::Contains("log.vhdx"), ImageError);
    // Wipe the in-place BAT (at 3 MiB in files we create): only the log still knows where the data is.
    std::vector<std::byte> zeros(4096);
    test::write_file_bytes(path, 3 * kMiB, zeros.data(), zeros.size());
    {
        auto chain = open_image(path, false);
        CHECK(read_range(*chain, 5 * kMiB, data.size()) == data);
    }
    CHECK(VhdxFile::open(path, OpenMode::read_only)->header().log.is_zero());
    CHECK(read_range(*open_image(path, true), 5 * kMiB, data.size()) == data);
}
