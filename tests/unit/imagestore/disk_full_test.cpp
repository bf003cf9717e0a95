// A VHDX on a file system that fills up (a small tmpfs, so this needs root; skipped otherwise): the write
// that needs space fails with no_space_on_device and changes nothing else, acknowledged writes survive the
// next flush and a reopen, and writes work again once space is freed, without reopening.
#include <doctest/doctest.h>

#include <map>

#include "imagestore/image_chain.hpp"
#include "imagestore/vhdx_file.hpp"
#include "test_util.hpp"
#include "tests/unit/small_filesystem.hpp"

using namespace bootherd;
using namespace bootherd::imagestore;

namespace {

constexpr std::uint64_t kMiB = 1 << 20;
constexpr std::size_t kWrite = 64 * 1024;

std::vector<std::byte> pattern(std::uint64_t offset) {
    std::vector<std::byte> out(kWrite);
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<std::byte>((offset / kMiB * 7 + i / 512) | 1);  // never zero
    return out;
}

std::vector<std::byte> read_at(block::BlockDevice& dev, std::uint64_t offset) {
    std::vector<std::byte> out(kWrite);
    REQUIRE(!dev.read(offset, out));
    return out;
}

}  // namespace

TEST_CASE("VHDX on a full file system: only the write that needs space fails") {
    std::string why;
    auto fs = bootherd::test::SmallFilesystem::mount(8 * kMiB, why);
    if (!fs) {
        MESSAGE("SKIPPED: ", why);
        return;
    }
    imagestore::test::TempDir dir(true);
    const std::string base = dir.file("base.vhdx");
    VhdxFile::create_dynamic(base, {64 * kMiB, static_cast<std::uint32_t>(kMiB), 512, 4096})->close();
    const std::string child = fs->file("child.vhdx");
    VhdxFile::create_differencing(child, base)->close();

    std::vector<std::uint64_t> acknowledged;
    {
        auto chain = open_image(child, false);
        auto top = std::dynamic_pointer_cast<VhdxFile>(chain->layers().front());
        fs->fill("ballast", 3 * kMiB / 2);  // the sector bitmap block takes 1 MiB of it
        // Each write starts a new payload block: partially present, so it needs the sector bitmap too.
        std::uint64_t at = 0;
        std::error_code failed;
        for (; at < 64 * kMiB; at += kMiB) {
            const std::uint64_t free_before = fs->free_bytes();
            failed = chain->write(at, pattern(at), false);
            if (failed) {
                // The block it was appending is given back whole: no space kept, nothing points at it.
                CHECK(fs->free_bytes() >= free_before);
                CHECK(top->block_state(at / kMiB) == vhdx::PayloadState::not_present);
                CHECK(read_at(*chain, at) == std::vector<std::byte>(kWrite));  // the parent's zeros
                break;
            }
            acknowledged.push_back(at);
            if (acknowledged.size() == 2) REQUIRE(!chain->flush());
        }
        REQUIRE_MESSAGE(failed == std::errc::no_space_on_device, failed.message());
        REQUIRE(acknowledged.size() > 2);  // some acknowledged writes are not flushed yet
        // Rewriting acknowledged data needs no new space; the flush needs none either, full as the disk is.
        REQUIRE(!chain->write(acknowledged.front(), pattern(acknowledged.front()), false));
        CHECK(!chain->flush());
        CHECK(chain->write(at, pattern(at), false) == std::errc::no_space_on_device);  // still full

        std::filesystem::remove(fs->file("ballast"));
        REQUIRE(!chain->write(at, pattern(at), false));
        acknowledged.push_back(at);
        REQUIRE(!chain->write(at + kMiB, pattern(at + kMiB), true));  // FUA: commits by itself
        acknowledged.push_back(at + kMiB);
        REQUIRE(!chain->flush());
    }
    auto chain = open_image(child, true);
    for (std::uint64_t offset : acknowledged) {
        CAPTURE(offset);
        CHECK(read_at(*chain, offset) == pattern(offset));
    }
}

TEST_CASE("VHDX on a full file system: a flush with nothing left to reserve still commits") {
    std::string why;
    auto fs = bootherd::test::SmallFilesystem::mount(8 * kMiB, why);
    if (!fs) {
        MESSAGE("SKIPPED: ", why);
        return;
    }
    const std::string path = fs->file("dynamic.vhdx");
    VhdxFile::create_dynamic(path, {32 * kMiB, static_cast<std::uint32_t>(kMiB), 512, 4096})->close();
    std::map<std::uint64_t, std::vector<std::byte>> written;
    {
        auto chain = open_image(path, false);
        fs->fill("ballast", kMiB / 2);
        // Fill with unflushed writes only: every BAT update waits for the one flush at the end.
        for (std::uint64_t at = 0; at < 32 * kMiB; at += kMiB) {
            auto data = pattern(at);
            if (auto ec = chain->write(at, data, false)) {
                CHECK(ec == std::errc::no_space_on_device);
                break;
            }
            written[at] = std::move(data);
        }
        REQUIRE(written.size() < 32);  // it did fill up
        REQUIRE(!chain->flush());
        chain->close();
    }
    auto chain = open_image(path, true);
    for (const auto& [at, data] : written) {
        CAPTURE(at);
        CHECK(read_at(*chain, at) == data);
    }
}
