// Every block size MS-VHDX allows (1 to 256 MiB) with both logical sector sizes: writes across block
// boundaries, the last partial block, a differencing child with sector-granular writes and unmaps. Checked
// against a sparse model of the disk (sector -> byte pattern), and with qemu-img check where installed
// (qemu opens 512-byte-sector VHDX only).
#include <doctest/doctest.h>

#include <map>

#include "imagestore/image_chain.hpp"
#include "imagestore/vhdx_file.hpp"
#include "test_util.hpp"

using namespace bootherd;
using namespace bootherd::imagestore;

namespace {

constexpr std::uint64_t kMiB = 1 << 20;

// Sector contents by number; absent sectors read as zeros. Each sector is filled with one byte value.
using Model = std::map<std::uint64_t, std::uint8_t>;

void write_sectors(ImageChain& disk, Model& model, std::uint64_t first, std::uint64_t count,
                   std::uint8_t value) {
    const std::uint32_t ls = disk.geometry().logical_block_size;
    std::vector<std::byte> data(count * ls, std::byte{value});
    REQUIRE_FALSE(disk.write(first * ls, data, false));
    for (std::uint64_t s = first; s < first + count; ++s)
        model[s] = value;
}

void unmap_sectors(ImageChain& disk, Model& model, std::uint64_t first, std::uint64_t count) {
    const std::uint32_t ls = disk.geometry().logical_block_size;
    REQUIRE_FALSE(disk.unmap(first * ls, count * ls));
    for (std::uint64_t s = first; s < first + count; ++s)
        model.erase(s);
}

// Reads a window of sectors around each modelled one (and the disk's first and last sectors).
void check_against(ImageChain& disk, const Model& model) {
    const std::uint32_t ls = disk.geometry().logical_block_size;
    const std::uint64_t sectors = disk.geometry().size_bytes / ls;
    std::vector<std::uint64_t> probes{0, sectors - 1};
    for (const auto& [s, v] : model)
        probes.push_back(s);
    std::vector<std::byte> buf;
    for (std::uint64_t center : probes) {
        const std::uint64_t first = center >= 2 ? center - 2 : 0;
        const std::uint64_t count = std::min<std::uint64_t>(5, sectors - first);
        buf.assign(count * ls, std::byte{0xee});
        REQUIRE_FALSE(disk.read(first * ls, buf));
        for (std::uint64_t i = 0; i < count; ++i) {
            auto it = model.find(first + i);
            const std::byte want{it == model.end() ? std::uint8_t{0} : it->second};
            CAPTURE(first + i);
            REQUIRE(buf[i * ls] == want);
            REQUIRE(buf[(i + 1) * ls - 1] == want);
        }
    }
}

}  // namespace

TEST_CASE("block sizes 1 to 256 MiB with 512 and 4096-byte sectors, dynamic and differencing") {
    test::TempDir dir(true);
    const bool have_qemu = test::run("command -v qemu-img").status == 0;
    for (std::uint32_t block_mib : {1u, 4u, 32u, 256u}) {
        for (std::uint32_t sector : {512u, 4096u}) {
            CAPTURE(block_mib);
            CAPTURE(sector);
            const std::uint64_t bs = std::uint64_t{block_mib} * kMiB;
            const std::uint64_t size = 2 * bs + 7 * sector;  // the last block is partial
            const std::uint64_t per_block = bs / sector, sectors = size / sector;
            const std::string tag = std::to_string(block_mib) + "-" + std::to_string(sector);
            const std::string base = dir.file("base-" + tag + ".vhdx"),
                              child = dir.file("child-" + tag + ".vhdx");
            Model model;
            VhdxFile::create_dynamic(base, {size, static_cast<std::uint32_t>(bs), sector, 4096})->close();
            {
                auto disk = open_image(base, false);
                write_sectors(*disk, model, per_block - 3, 6, 0x11);  // across the first block boundary
                write_sectors(*disk, model, sectors - 2, 2, 0x12);    // the end of the partial last block
                write_sectors(*disk, model, 0, 1, 0x13);
                check_against(*disk, model);
                disk->close();
            }
            if (have_qemu && sector == 512) {  // qemu's VHDX driver supports 512-byte sectors only
                auto r = test::run("qemu-img check -f vhdx '" + base + "'");
                CHECK_MESSAGE(r.status == 0, r.output);
            }
            VhdxFile::create_differencing(child, base)->close();
            {
                auto disk = open_image(child, false);
                write_sectors(*disk, model, per_block - 1, 1,
                              0x21);  // partially present, over the parent's data
                write_sectors(*disk, model, per_block + 5, 3, 0x22);
                unmap_sectors(*disk, model, per_block - 2, 1);        // reads zeros, never the parent
                write_sectors(*disk, model, 2 * per_block, 7, 0x23);  // the whole partial last block
                unmap_sectors(*disk, model, sectors - 1, 1);          // then its last sector
                check_against(*disk, model);
                disk->close();
            }
            check_against(*open_image(child, true), model);
        }
    }
}
