#include <doctest/doctest.h>

#include <iostream>

#include "imagestore/image_chain.hpp"
#include "imagestore/store/image_store.hpp"
#include "tests/unit/store/store_test_support.hpp"

using namespace bootherd;
using namespace bootherd::imagestore;
using namespace bootherd::imagestore::store;
using namespace bootherd::imagestore::store::testing;

namespace {
constexpr std::uint64_t MiB = 1024 * 1024;

// 256 nodes on one base of `base_size` random bytes, each writing `per_node` bytes of random data in 64 KiB
// pieces at random places. Each node disk may cost its fixed size (headers, reserved log, BAT and bitmap
// space: whatever it writes) plus 1.1x what it wrote. Prints the figure.
void check_storage_figure(std::uint64_t base_size, std::uint64_t per_node) {
    constexpr std::uint64_t kPiece = 64 * 1024;
    constexpr int kNodes = 256;
    TempDir dir;
    std::mt19937_64 rng(10);
    ImageStore store(dir.path() / "data");
    auto raw = dir.path() / "base.raw";
    write_raw_image(raw, base_size, {{0, base_size}}, rng);
    auto v1 = store.import_image("base", raw);
    std::filesystem::remove(raw);
    const std::uint64_t base_bytes = allocated_bytes(store.absolute(v1.file_path));

    // The fixed cost of a node disk that has been written to: headers, plus the log, BAT and sector bitmap
    // space a writable disk reserves so that a flush never needs new space (on a full file system too).
    auto probe = store.add_node({.name = "probe", .mac = "52:54:00:ff:ff:ff", .image_id = v1.image_id});
    {
        auto chain = open_image(store.absolute(*probe.disk_path).string(), false);
        REQUIRE_FALSE(chain->write(0, random_bytes(kPiece, rng), false));
        chain->close();
    }
    const std::uint64_t empty_disk = allocated_bytes(store.absolute(*probe.disk_path)) - kPiece;
    store.remove_node("probe");

    std::uint64_t nodes_bytes = 0;
    for (int i = 0; i < kNodes; ++i) {
        char mac[18];
        std::snprintf(mac, sizeof mac, "52:54:00:00:%02x:%02x", i / 256, i % 256);
        auto node = store.add_node({.name = "n" + std::to_string(i), .mac = mac, .image_id = v1.image_id});
        auto chain = open_image(store.absolute(*node.disk_path).string(), false);
        for (std::uint64_t written = 0; written < per_node; written += kPiece) {
            const auto piece = random_bytes(kPiece, rng);
            const std::uint64_t offset = (rng() % (base_size / kPiece)) * kPiece;
            REQUIRE_FALSE(chain->write(offset, piece, false));
        }
        chain->close();
        nodes_bytes += allocated_bytes(store.absolute(*node.disk_path));
    }
    const double written = kNodes * static_cast<double>(per_node);
    const double limit =
        static_cast<double>(base_bytes) + kNodes * static_cast<double>(empty_disk) + 1.1 * written;
    const double issue_limit = static_cast<double>(base_size) + 1.1 * written;  // base + 1.1 x 256 x written
    std::cout << "storage figure: base " << base_bytes / MiB << " MiB + " << kNodes << " nodes x "
              << per_node / MiB << " MiB written = " << (base_bytes + nodes_bytes) / MiB
              << " MiB on disk (nodes " << nodes_bytes / MiB << " MiB, empty node disk " << empty_disk / 1024
              << " KiB); base + 1.1 x written = " << static_cast<std::uint64_t>(issue_limit / MiB)
              << " MiB\n";
    CHECK(static_cast<double>(base_bytes + nodes_bytes) <= limit);
    if (per_node >= 16 * MiB) CHECK(static_cast<double>(base_bytes + nodes_bytes) <= issue_limit);
}
}  // namespace

// Unit-test scale: 64 MiB base, 1 MiB per node.
TEST_CASE("storage: 256 node disks on one base cost about what they write") {
    check_storage_figure(64 * MiB, MiB);
}

// The issue's figure (1 GiB base, 16 MiB per node, about 5 GiB of scratch space); run by
// tools/bench/storage_bench.sh.
TEST_CASE("storage figure full size" * doctest::skip()) {
    check_storage_figure(1024 * MiB, 16 * MiB);
}
