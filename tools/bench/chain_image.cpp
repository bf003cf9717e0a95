// Builds the disks chain_bench.sh serves: a differencing chain as a node disk sits on it, and the same
// content as one flat raw file.
//
//   base.vhdx   dynamic VHDX filled with random data
//   diff1.vhdx  differencing on base, with scattered writes and unmaps of random size
//   diff2.vhdx  differencing on diff1, likewise
//   node.vhdx   differencing on diff2, a node's disk: fewer writes
//   flat.raw    what node.vhdx reads as, byte for byte (sparse where the chain reads zeros)
//
// Writes are sector aligned but mostly not block or 4 KiB aligned, so the differencing layers hold
// PARTIALLY_PRESENT blocks whose sector bitmaps every read has to resolve.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <vector>

#include "imagestore/image_chain.hpp"
#include "imagestore/vhdx_file.hpp"

namespace {

namespace fs = std::filesystem;
using bootherd::imagestore::VhdxFile;

constexpr std::uint64_t kMiB = 1024 * 1024;

void fill_random(std::mt19937_64& rng, std::span<std::byte> out) {
    for (std::size_t i = 0; i < out.size(); i += 8) {
        const std::uint64_t v = rng();
        std::memcpy(out.data() + i, &v, std::min<std::size_t>(8, out.size() - i));
    }
}

// `operations` writes (and one unmap in ten) of 1 to 128 sectors at random sector offsets.
void scatter(VhdxFile& disk, std::mt19937_64& rng, int operations) {
    const std::uint64_t sector = disk.logical_sector_size();
    const std::uint64_t sectors = disk.virtual_size() / sector;
    std::vector<std::byte> data(128 * sector);
    for (int i = 0; i < operations; ++i) {
        const std::uint64_t count = 1 + rng() % 128;
        const std::uint64_t first = rng() % (sectors - count);
        if (i % 10 == 9) {
            disk.unmap(first * sector, count * sector);
        } else {
            auto piece = std::span(data).first(count * sector);
            fill_random(rng, piece);
            disk.write(first * sector, piece, false);
        }
    }
    disk.flush();
}

void write_flat(const std::string& chain_top, const fs::path& flat) {
    auto chain = bootherd::imagestore::open_image(chain_top, true);
    const std::uint64_t size = chain->geometry().size_bytes;
    std::fstream out(flat, std::ios::out | std::ios::binary | std::ios::trunc);
    out.close();
    fs::resize_file(flat, size);
    out.open(flat, std::ios::in | std::ios::out | std::ios::binary);
    std::vector<std::byte> buffer(4 * kMiB);
    for (std::uint64_t at = 0; at < size; at += buffer.size()) {
        auto piece = std::span(buffer).first(std::min<std::uint64_t>(buffer.size(), size - at));
        if (auto ec = chain->read(at, piece)) throw std::system_error(ec, "reading " + chain_top);
        if (std::all_of(piece.begin(), piece.end(), [](std::byte b) { return b == std::byte{0}; })) continue;
        out.seekp(static_cast<std::streamoff>(at));
        out.write(reinterpret_cast<const char*>(piece.data()), static_cast<std::streamsize>(piece.size()));
    }
    out.close();
    if (!out) throw std::runtime_error("cannot write " + flat.string());
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app("Builds a base VHDX, two differencing levels and a node disk, plus the same content flat");
    std::string dir;
    std::uint64_t size_mib = 1024;
    std::uint32_t block_mib = 32;
    std::uint32_t sector = 512;
    int writes = 4000;
    std::uint64_t seed = 1;
    app.add_option("--dir", dir, "Directory to create the files in (must exist)")->required();
    app.add_option("--size-mib", size_mib, "Disk size in MiB")
        ->capture_default_str()
        ->check(CLI::Range(16, 65536));
    app.add_option("--block-mib", block_mib, "VHDX block size in MiB")
        ->capture_default_str()
        ->check(CLI::IsMember({1, 2, 4, 8, 16, 32, 64, 128, 256}));
    app.add_option("--sector", sector, "Logical sector size")
        ->capture_default_str()
        ->check(CLI::IsMember({512, 4096}));
    app.add_option("--writes", writes, "Scattered operations in each of diff1 and diff2 (a quarter in node)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--seed", seed, "Random seed")->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    try {
        const fs::path d(dir);
        std::mt19937_64 rng(seed);
        bootherd::imagestore::CreateOptions options;
        options.size = size_mib * kMiB;
        options.block_size = block_mib * static_cast<std::uint32_t>(kMiB);
        options.logical_sector = sector;
        {
            auto base = VhdxFile::create_dynamic((d / "base.vhdx").string(), options);
            std::vector<std::byte> data(4 * kMiB);
            for (std::uint64_t at = 0; at < options.size; at += data.size()) {
                fill_random(rng, data);
                base->write(at, data, false);
            }
            base->close();
        }
        const char* levels[][2] = {
            {"diff1.vhdx", "base.vhdx"}, {"diff2.vhdx", "diff1.vhdx"}, {"node.vhdx", "diff2.vhdx"}};
        for (const auto& [child, parent] : levels) {
            auto disk = VhdxFile::create_differencing((d / child).string(), (d / parent).string());
            scatter(*disk, rng, std::string_view(child) == "node.vhdx" ? writes / 4 : writes);
            disk->close();
        }
        write_flat((d / "node.vhdx").string(), d / "flat.raw");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "chain_image: %s\n", e.what());
        return 1;
    }
    return 0;
}
