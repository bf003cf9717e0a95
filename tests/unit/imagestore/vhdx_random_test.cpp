// Randomized differential test: random operations on VHDX chains, checked against a plain byte array.
#include <doctest/doctest.h>

#include "imagestore/image_chain.hpp"
#include "imagestore/vhdx_file.hpp"
#include "test_util.hpp"

using namespace bootherd;
using namespace bootherd::imagestore;
using test::TempDir;

namespace {

constexpr std::uint64_t kMiB = 1 << 20;

struct Config {
    int depth;
    std::uint32_t sector;
    std::uint64_t seed;
};

void run_differential(const Config& cfg, int operations) {
    TempDir dir(true);
    std::mt19937_64 rng(cfg.seed);
    const std::uint64_t size = 8 * kMiB + 16 * cfg.sector, bs = kMiB;
    const std::uint64_t sectors = size / cfg.sector;
    std::vector<std::byte> ref(size);
    int level = 0;
    auto level_path = [&](int l) { return dir.file("level" + std::to_string(l) + ".vhdx"); };

    {
        VhdxFile::create_dynamic(level_path(0), {size, static_cast<std::uint32_t>(bs), cfg.sector, 4096})
            ->close();
        // Give the base some content so that children have something to hide.
        auto base = open_image(level_path(0), false);
        auto data = test::random_bytes(rng, 3 * kMiB);
        REQUIRE(!base->write(2 * kMiB, data, false));
        std::copy(data.begin(), data.end(), ref.begin() + 2 * kMiB);
    }
    auto add_level = [&] {
        ++level;
        VhdxFile::create_differencing(level_path(level), level_path(level - 1))->close();
    };
    while (level + 1 < cfg.depth)
        add_level();
    auto chain = open_image(level_path(level), false);
    REQUIRE(chain->layers().size() == static_cast<std::size_t>(level + 1));

    auto pick_range = [&](std::uint64_t max_sectors) {
        std::uint64_t first = rng() % sectors;
        std::uint64_t count = 1 + rng() % std::min(max_sectors, sectors - first);
        // Now and then align to whole blocks, which takes the block-state paths.
        if (rng() % 4 == 0) {
            std::uint64_t per_block = bs / cfg.sector;
            first = first / per_block * per_block;
            count = std::min(sectors - first, (1 + rng() % 2) * per_block);
        }
        return std::pair{first * cfg.sector, count * cfg.sector};
    };
    // Write data comes from slices of one random pool: cheap to produce, still distinct per write.
    const auto pool = test::random_bytes(rng, 4 * kMiB);
    auto random_slice = [&](std::uint64_t len) {
        std::uint64_t at = rng() % (pool.size() - len) / 8 * 8;
        return std::span<const std::byte>(pool).subspan(at, len);
    };
    auto same = [&](std::span<const std::byte> got, std::uint64_t off) {
        return std::memcmp(got.data(), ref.data() + off, got.size()) == 0;
    };
    auto whole_disk_matches = [&] {
        auto all = test::read_all(*chain);
        return same(all, 0);
    };
    std::vector<std::byte> buf;
    for (int op = 0; op < operations; ++op) {
        CAPTURE(op);
        unsigned kind = static_cast<unsigned>(rng() % 100);
        auto [off, len] = pick_range(2 * bs / cfg.sector + 3);
        if (kind < 40) {
            auto data = random_slice(len);
            REQUIRE(!chain->write(off, data, rng() % 16 == 0));
            std::copy(data.begin(), data.end(), ref.begin() + static_cast<std::ptrdiff_t>(off));
        } else if (kind < 52) {
            REQUIRE(!chain->unmap(off, len));
            std::fill_n(ref.begin() + static_cast<std::ptrdiff_t>(off), len, std::byte{0});
        } else if (kind < 64) {
            std::vector<std::byte> pattern(cfg.sector);
            bool zero = rng() % 2 == 0;
            if (!zero) {
                auto slice = random_slice(cfg.sector);
                pattern.assign(slice.begin(), slice.end());
            }
            REQUIRE(!chain->write_same(off, len, pattern, rng() % 2 == 0));
            for (std::uint64_t at = off; at < off + len; at += cfg.sector)
                std::copy(pattern.begin(), pattern.end(), ref.begin() + static_cast<std::ptrdiff_t>(at));
        } else if (kind < 94) {
            buf.resize(len);
            REQUIRE(!chain->read(off, buf));
            REQUIRE(same(buf, off));
        } else if (kind < 97) {
            REQUIRE(!chain->flush());
        } else if (kind < 99 || level >= cfg.depth + 1) {
            chain->close();
            chain.reset();
            chain = open_image(level_path(level), false);
            REQUIRE(whole_disk_matches());
        } else {
            chain->close();
            chain.reset();
            add_level();
            chain = open_image(level_path(level), false);
            REQUIRE(chain->layers().size() == static_cast<std::size_t>(level + 1));
            REQUIRE(whole_disk_matches());
        }
    }
    REQUIRE(whole_disk_matches());
    chain->close();
    chain.reset();
    REQUIRE(test::read_all(*open_image(level_path(level), true)) == ref);
}

}  // namespace

TEST_CASE("randomized differential test against an in-memory disk, chain depth 1") {
    run_differential({1, 512, 1001}, 10000);
}
TEST_CASE("randomized differential test against an in-memory disk, chain depth 2") {
    run_differential({2, 4096, 2002}, 10000);
}
TEST_CASE("randomized differential test against an in-memory disk, chain depth 3") {
    run_differential({3, 512, 3003}, 10000);
}
