// Damaged and hostile files: each must fail with an ImageError naming the file and the problem, never crash.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include "common/bytes.hpp"
#include "common/crc32c.hpp"
#include "imagestore/image_chain.hpp"
#include "imagestore/image_error.hpp"
#include "imagestore/vhdx_file.hpp"
#include "imagestore/vhdx_log.hpp"
#include "test_util.hpp"

using namespace bootherd;
using namespace bootherd::imagestore;
using test::TempDir;

namespace {
constexpr std::uint64_t kMiB = 1 << 20;
// Where VhdxFile::create puts things.
constexpr std::uint64_t kLogAt = kMiB, kMetadataAt = 2 * kMiB, kBatAt = 3 * kMiB;

std::string make_disk(const TempDir& dir, const std::string& name) {
    std::string path = dir.file(name);
    auto f = VhdxFile::create_dynamic(path, {16 * kMiB, static_cast<std::uint32_t>(kMiB), 512, 4096});
    std::vector<std::byte> data(4096, std::byte{0x42});
    f->write(kMiB, data, false);
    f->close();
    return path;
}

std::vector<std::byte> read_at(const std::string& path, std::uint64_t offset, std::size_t n) {
    auto all = test::file_bytes(path);
    return {all.begin() + static_cast<std::ptrdiff_t>(offset),
            all.begin() + static_cast<std::ptrdiff_t>(offset + n)};
}

// Rewrites a checksummed structure (checksum at byte 4) after `change` edits it.
template <class F>
void patch_with_checksum(const std::string& path, std::uint64_t offset, std::size_t size, F change) {
    auto bytes = read_at(path, offset, size);
    change(bytes);
    store_le<std::uint32_t>(bytes.data() + 4, 0);
    store_le<std::uint32_t>(bytes.data() + 4, crc32c(bytes));
    test::write_file_bytes(path, offset, bytes.data(), bytes.size());
}

void expect_error(const std::string& path, const std::string& problem) {
    CAPTURE(problem);
    try {
        open_image(path, true);
        FAIL("opened a damaged file");
    } catch (const ImageError& e) {
        std::string what = e.what();
        CHECK_MESSAGE(what.find(path) != std::string::npos, what);
        CHECK_MESSAGE(what.find(problem) != std::string::npos, what);
    }
}

vhdx::Header current_header(const std::string& path) {
    return VhdxFile::open(path, OpenMode::read_only)->header();
}

// Makes `path` carry an active log holding `pages`, as a writer that died would leave it.
void plant_log(const std::string& path, std::span<const vhdx::LogPage> pages,
               std::uint64_t flushed_file_offset) {
    vhdx::Header h = current_header(path);
    h.log = Guid::random();
    h.sequence += 1;
    std::array<std::byte, vhdx::kHeaderSize> hb{};
    vhdx::serialize_header(h, hb);
    test::write_file_bytes(path, vhdx::kHeaderOffsets[0], hb.data(), hb.size());
    test::write_file_bytes(path, vhdx::kHeaderOffsets[1], hb.data(), hb.size());
    vhdx::LogEntryFields f;
    f.log_guid = h.log;
    f.sequence = 5;
    f.tail = 0;
    f.flushed_file_offset = flushed_file_offset;
    f.last_file_offset = std::filesystem::file_size(path);
    auto entry = vhdx::build_log_entry(f, pages);
    test::write_file_bytes(path, kLogAt, entry.data(), entry.size());
}
}  // namespace

TEST_CASE("bad header checksums") {
    TempDir dir;
    std::string path = dir.file("hdr.vhdx");
    VhdxFile::create_dynamic(path, {16 * kMiB, static_cast<std::uint32_t>(kMiB), 512, 4096})->close();
    vhdx::Header before = current_header(path);
    // Damage only the current header: the other one, one update older, is used instead.
    std::byte junk{0x77};
    for (std::uint64_t at : vhdx::kHeaderOffsets) {
        auto h = read_at(path, at, 4096);
        if (load_le<std::uint64_t>(h.data() + 8) == before.sequence)
            test::write_file_bytes(path, at + 100, &junk, 1);
    }
    CHECK(current_header(path).sequence == before.sequence - 1);
    for (std::uint64_t at : vhdx::kHeaderOffsets)
        test::write_file_bytes(path, at + 100, &junk, 1);
    expect_error(path, "both headers are invalid");
}

TEST_CASE("bad region table checksums, overlapping regions, unknown required regions") {
    TempDir dir;
    std::string path = make_disk(dir, "regi.vhdx");
    std::byte junk{0x77};
    for (std::uint64_t at : vhdx::kRegionTableOffsets)
        test::write_file_bytes(path, at + 200, &junk, 1);
    expect_error(path, "region table checksum mismatch");

    path = make_disk(dir, "overlap.vhdx");
    for (std::uint64_t at : vhdx::kRegionTableOffsets)
        patch_with_checksum(path, at, vhdx::kRegionTableSize, [](std::vector<std::byte>& b) {
            store_le<std::uint64_t>(b.data() + 16 + 32 + 16, kBatAt);  // the metadata region onto the BAT
        });
    expect_error(path, "overlapping regions");

    path = make_disk(dir, "unknown-region.vhdx");
    for (std::uint64_t at : vhdx::kRegionTableOffsets)
        patch_with_checksum(path, at, vhdx::kRegionTableSize, [](std::vector<std::byte>& b) {
            store_le<std::uint32_t>(b.data() + 8, 3);
            Guid::random().store(b.data() + 16 + 64);
            store_le<std::uint64_t>(b.data() + 16 + 64 + 16, 8 * kMiB);
            store_le<std::uint32_t>(b.data() + 16 + 64 + 24, kMiB);
            store_le<std::uint32_t>(b.data() + 16 + 64 + 28, 1);
        });
    expect_error(path, "unsupported required region");
}

TEST_CASE("bad metadata (MS-VHDX gives the metadata region no checksum: its table and items are validated)") {
    TempDir dir;
    std::string path = make_disk(dir, "meta-sig.vhdx");
    test::write_file_bytes(path, kMetadataAt, "metadatX", 8);
    expect_error(path, "metadata table has a bad signature");

    path = make_disk(dir, "meta-block.vhdx");
    // The first item is File Parameters at offset 64 KiB of the region: a block size that is no power of two.
    std::uint32_t bad_block = 3 * kMiB;
    test::write_file_bytes(path, kMetadataAt + 64 * 1024, &bad_block, 4);
    expect_error(path, "block size");

    path = make_disk(dir, "meta-range.vhdx");
    std::uint32_t far = 2 * kMiB;
    test::write_file_bytes(path, kMetadataAt + 32 + 16, &far, 4);
    expect_error(path, "lies outside the metadata region");

    path = make_disk(dir, "meta-count.vhdx");
    std::uint16_t count = 0;
    test::write_file_bytes(path, kMetadataAt + 10, &count, 2);
    expect_error(path, "a required metadata item is missing");
}

TEST_CASE("BAT entry past end of file, truncated files") {
    TempDir dir;
    std::string path = make_disk(dir, "bat.vhdx");
    std::uint64_t entry = vhdx::make_bat_entry(6, 900 * kMiB);
    test::write_file_bytes(path, kBatAt + 8 * 5, &entry, 8);
    expect_error(path, "points past end of file");

    path = make_disk(dir, "bat-overlap.vhdx");
    entry = vhdx::make_bat_entry(6, kMetadataAt);
    test::write_file_bytes(path, kBatAt + 8 * 5, &entry, 8);
    expect_error(path, "overlaps the metadata region");

    path = make_disk(dir, "trunc-small.vhdx");
    std::filesystem::resize_file(path, 100 * 1024);
    expect_error(path, "truncated");

    path = make_disk(dir, "trunc-meta.vhdx");
    std::filesystem::resize_file(path, kMetadataAt + kMiB / 2);
    expect_error(path, "truncated");

    path = make_disk(dir, "trunc-data.vhdx");
    std::filesystem::resize_file(path, std::filesystem::file_size(path) - kMiB / 2);  // cuts the data block
    expect_error(path, "points past end of file");

    std::string not_vhdx = dir.file("plain.bin");
    std::vector<char> zeros(4096);
    test::write_file_bytes(not_vhdx, 0, zeros.data(), 0);
    {
        std::ofstream(not_vhdx, std::ios::binary)
            .write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
    }
    CHECK_THROWS_WITH_AS(VhdxFile::open(not_vhdx, OpenMode::read_only), doctest::Contains("not a VHDX file"),
                         ImageError);
}

TEST_CASE("active logs: a damaged entry is not replayed; a log that cannot replay is refused") {
    TempDir dir;
    // A good entry: the BAT page of the file itself, so replaying it restores a wiped BAT.
    std::string path = make_disk(dir, "log-good.vhdx");
    vhdx::LogPage bat_page;
    bat_page.file_offset = kBatAt;
    auto page = read_at(path, kBatAt, 4096);
    std::memcpy(bat_page.data.data(), page.data(), 4096);
    plant_log(path, {&bat_page, 1}, std::filesystem::file_size(path));
    std::vector<std::byte> zeros(4096);
    test::write_file_bytes(path, kBatAt, zeros.data(), zeros.size());
    expect_error(path, "active log");  // read-only open refuses
    {
        auto chain = open_image(path, false);
        std::vector<std::byte> got(4096);
        REQUIRE(!chain->read(kMiB, got));
        CHECK(got == std::vector<std::byte>(4096, std::byte{0x42}));
    }

    // Log checksum damaged: the entry is invalid, as after a torn write, so nothing is replayed.
    path = make_disk(dir, "log-checksum.vhdx");
    plant_log(path, {&bat_page, 1}, std::filesystem::file_size(path));
    test::write_file_bytes(path, kBatAt, zeros.data(), zeros.size());
    std::byte junk{0x55};
    test::write_file_bytes(path, kLogAt + 4096 + 100, &junk, 1);
    {
        auto chain = open_image(path, false);
        std::vector<std::byte> got(4096);
        REQUIRE(!chain->read(kMiB, got));
        CHECK(got == std::vector<std::byte>(4096));  // the wiped BAT stayed wiped
    }
    CHECK(current_header(path).log.is_zero());

    // An entry that would write into the header section.
    path = make_disk(dir, "log-wild.vhdx");
    vhdx::LogPage wild;
    wild.file_offset = 64 * 1024;
    plant_log(path, {&wild, 1}, std::filesystem::file_size(path));
    CHECK_THROWS_WITH_AS(open_image(path, false), doctest::Contains("active log does not replay"),
                         ImageError);

    // An entry that expects a longer file than there is.
    path = make_disk(dir, "log-trunc.vhdx");
    plant_log(path, {&bat_page, 1}, std::filesystem::file_size(path) + 64 * kMiB);
    CHECK_THROWS_WITH_AS(open_image(path, false), doctest::Contains("log-trunc.vhdx"), ImageError);
    CHECK_THROWS_WITH_AS(open_image(path, false), doctest::Contains("truncated"), ImageError);
}

TEST_CASE("bad VHD footers") {
    TempDir dir;
    std::string path = dir.file("bad.vhd");
    std::vector<std::byte> img(64 * 1024 + 512);
    std::memcpy(img.data() + 64 * 1024, "conectix", 8);
    {
        std::ofstream(path, std::ios::binary)
            .write(reinterpret_cast<const char*>(img.data()), static_cast<std::streamsize>(img.size()));
    }
    expect_error(path, "VHD footer checksum mismatch");
}
