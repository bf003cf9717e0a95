#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>

#include "tests/unit/scsi/harness.hpp"

using namespace bootherd;
using namespace bootherd::scsi;
using namespace bootherd::scsi::testing;

namespace {
constexpr std::uint8_t kIllegalRequest = 0x05;
constexpr std::uint8_t kDataProtect = 0x07;
constexpr std::uint8_t kMediumError = 0x03;
constexpr std::uint8_t kMiscompare = 0x0e;

Bytes inquiry_cdb(bool evpd, std::uint8_t page, std::uint16_t length = 255) {
    Bytes c = {0x12, static_cast<std::uint8_t>(evpd ? 1 : 0), page, 0, 0, 0};
    store_be<std::uint16_t>(c.data() + 3, length);
    return c;
}
}  // namespace

TEST_CASE("inquiry: standard data") {
    Harness h;
    auto t = h.run(inquiry_cdb(false, 0));
    REQUIRE(t.status == Status::good);
    auto d = data_in(t);
    REQUIRE(d.size() == 96);
    CHECK(d[0] == 0x00);
    CHECK(d[2] == 0x06);
    CHECK((d[3] & 0x10) != 0);  // HiSup
    CHECK(d[4] == 91);
    CHECK((d[7] & 0x02) != 0);  // CmdQue
    CHECK(std::string(d.begin() + 8, d.begin() + 16) == "BOOTHERD");
    CHECK(load_be<std::uint16_t>(d.data() + 62) == 0x0460);  // SPC-4 descriptor

    SUBCASE("allocation length truncates") {
        auto s = h.run(inquiry_cdb(false, 0, 5));
        CHECK(s.data_in_length == 5);
    }
}

TEST_CASE("inquiry: VPD pages") {
    Harness h;
    auto pages = data_in(h.run(inquiry_cdb(true, 0x00)));
    REQUIRE(pages.size() >= 4);
    const Bytes listed(pages.begin() + 4, pages.end());
    CHECK(listed == Bytes{0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2});
    for (auto page : listed) {
        auto t = h.run(inquiry_cdb(true, page));
        REQUIRE(t.status == Status::good);
        auto d = data_in(t);
        CHECK(d[1] == page);
        CHECK(load_be<std::uint16_t>(d.data() + 2) + 4u == d.size());
    }
    auto serial = data_in(h.run(inquiry_cdb(true, 0x80)));
    CHECK(std::string(serial.begin() + 4, serial.end()) == "SERIAL0001");

    auto id = data_in(h.run(inquiry_cdb(true, 0x83)));
    CHECK(id[4] == 0x01);
    CHECK(id[5] == 0x03);
    CHECK(id[7] == 16);
    CHECK((id[8] >> 4) == 6);
    CHECK(load_be<std::uint64_t>(id.data() + 16) == 0x1122334455667788ull);

    auto limits = data_in(h.run(inquiry_cdb(true, 0xb0)));
    CHECK(limits[3] == 0x3c);
    CHECK(limits[5] == 255);
    CHECK(load_be<std::uint32_t>(limits.data() + 20) != 0);  // thin: MAXIMUM UNMAP LBA COUNT
    auto lbp = data_in(h.run(inquiry_cdb(true, 0xb2)));
    CHECK(lbp[5] == (0x80 | 0x40 | 0x20 | 0x04));
    CHECK(lbp[6] == 0x02);
    auto bdc = data_in(h.run(inquiry_cdb(true, 0xb1)));
    CHECK(load_be<std::uint16_t>(bdc.data() + 4) == 1);

    check_sense(h.run(inquiry_cdb(true, 0x89)), kIllegalRequest, 0x2400);
}

TEST_CASE("inquiry: a thick backend reports no provisioning") {
    Harness h(Options{.thin = false});
    auto lbp = data_in(h.run(inquiry_cdb(true, 0xb2)));
    CHECK(lbp[5] == 0);
    CHECK(lbp[6] == 0);
    auto limits = data_in(h.run(inquiry_cdb(true, 0xb0)));
    CHECK(load_be<std::uint32_t>(limits.data() + 20) == 0);
    auto cap = data_in(h.run(Bytes{0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0}));
    CHECK(cap[14] == 0);
    Bytes unmap(10, 0);
    unmap[0] = 0x42;
    check_sense(h.run(unmap), kIllegalRequest, 0x2000);
}

TEST_CASE("unknown LUN") {
    Harness h;
    auto t = h.run(inquiry_cdb(false, 0), h.a, {}, 7);
    REQUIRE(t.status == Status::good);
    CHECK(data_in(t)[0] == 0x7f);
    CHECK(h.target->runs_inline(t));
    check_sense(h.run(Bytes{0x00, 0, 0, 0, 0, 0}, h.a, {}, 7), kIllegalRequest, 0x2500);
    check_sense(h.run(rw10(0x28, 0, 1), h.a, {}, 7), kIllegalRequest, 0x2500);
    auto luns = h.run(Bytes{0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, h.a, {}, 7);
    CHECK(luns.status == Status::good);
    auto sense = h.run(Bytes{0x03, 0, 0, 0, 252, 0}, h.a, {}, 7);
    REQUIRE(sense.status == Status::good);
    CHECK(data_in(sense)[12] == 0x25);
}

TEST_CASE("unsupported opcode and service action") {
    Harness h;
    check_sense(h.run(Bytes{0xc5, 0, 0, 0, 0, 0}), kIllegalRequest, 0x2000);
    check_sense(h.run(Bytes{0x9e, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0}), kIllegalRequest, 0x2400);
    check_sense(h.run(Bytes{0x00, 0, 0, 0, 0, 0x04}), kIllegalRequest, 0x2400);  // NACA
}

TEST_CASE("report luns") {
    Harness h;
    auto t = h.run(Bytes{0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0});
    auto d = data_in(t);
    REQUIRE(d.size() == 16);
    CHECK(load_be<std::uint32_t>(d.data()) == 8);
    CHECK(d[9] == 0);
    auto well_known = data_in(h.run(Bytes{0xa0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0}));
    CHECK(load_be<std::uint32_t>(well_known.data()) == 0);
    check_sense(h.run(Bytes{0xa0, 0, 3, 0, 0, 0, 0, 0, 1, 0, 0, 0}), kIllegalRequest, 0x2400);
    check_sense(h.run(Bytes{0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0}), kIllegalRequest, 0x2400);
}

TEST_CASE("read capacity") {
    Harness h(Options{.blocks = 4096, .block_size = 512});
    auto d = data_in(h.run(Bytes{0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
    CHECK(load_be<std::uint32_t>(d.data()) == 4095);
    CHECK(load_be<std::uint32_t>(d.data() + 4) == 512);
    auto d16 = data_in(h.run(Bytes{0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0}));
    REQUIRE(d16.size() == 32);
    CHECK(load_be<std::uint64_t>(d16.data()) == 4095);
    CHECK(d16[14] == 0xc0);  // LBPME, LBPRZ
    auto short16 = h.run(Bytes{0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0});
    CHECK(short16.data_in_length == 12);

    auto g = h.disk->geometry();
    g.physical_block_size = 4096;
    h.disk->set_geometry(g);
    auto pb = data_in(h.run(Bytes{0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0}));
    CHECK(pb[13] == 3);
}

TEST_CASE("read capacity(10) saturates beyond 2^32 blocks") {
    Harness h(Options{.blocks = 8});
    auto g = h.disk->geometry();
    g.size_bytes = (std::uint64_t{1} << 33) * 512;
    h.disk->set_geometry(g);
    h.clear_unit_attentions(h.a);
    auto d = data_in(h.run(Bytes{0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
    CHECK(load_be<std::uint32_t>(d.data()) == 0xffffffffu);
}

TEST_CASE("read and write round trip in every CDB size") {
    Harness h;
    const auto pattern = filled(2 * 512, 0xa5);
    SUBCASE("10") {
        REQUIRE(h.run(rw10(0x2a, 10, 2), pattern).status == Status::good);
        CHECK(data_in(h.run(rw10(0x28, 10, 2))) == pattern);
    }
    SUBCASE("12") {
        REQUIRE(h.run(rw12(0xaa, 10, 2), pattern).status == Status::good);
        CHECK(data_in(h.run(rw12(0xa8, 10, 2))) == pattern);
    }
    SUBCASE("16") {
        REQUIRE(h.run(rw16(0x8a, 10, 2), pattern).status == Status::good);
        CHECK(data_in(h.run(rw16(0x88, 10, 2))) == pattern);
    }
    SUBCASE("6") {
        REQUIRE(h.run(Bytes{0x0a, 0, 0, 10, 2, 0}, pattern).status == Status::good);
        CHECK(data_in(h.run(Bytes{0x08, 0, 0, 10, 2, 0})) == pattern);
        auto t = h.run(Bytes{0x08, 0, 0, 0, 0, 0});
        CHECK(t.data_in_length == 256 * 512);
    }
}

TEST_CASE("write honours FUA and ignores DPO") {
    Harness h;
    REQUIRE(h.run(rw10(0x2a, 0, 1, 0x18), filled(512, 1)).status == Status::good);
    CHECK(h.disk->fua_writes == 1);
    REQUIRE(h.run(rw10(0x2a, 0, 1, 0x10), filled(512, 1)).status == Status::good);
    CHECK(h.disk->fua_writes == 1);
}

TEST_CASE("read/write errors") {
    Harness h(Options{.blocks = 100});
    check_sense(h.run(rw10(0x28, 99, 2)), kIllegalRequest, 0x2100);
    check_sense(h.run(rw10(0x28, 101, 0)), kIllegalRequest, 0x2100);
    CHECK(h.run(rw10(0x28, 100, 0)).status == Status::good);
    check_sense(h.run(rw16(0x88, ~0ull, 1)), kIllegalRequest, 0x2100);
    check_sense(h.run(rw10(0x28, 0, 1, 0x20)), kIllegalRequest, 0x2400);  // RDPROTECT
    check_sense(h.run(rw10(0x2a, 0, 1, 0x40), filled(512, 0)), kIllegalRequest, 0x2400);
    auto zero = h.run(rw10(0x28, 0, 0));
    CHECK(zero.status == Status::good);
    CHECK(zero.data_in_length == 0);
    check_sense(h.run(rw12(0xa8, 0, 1u << 20)), kIllegalRequest, 0x2400);  // beyond MAXIMUM TRANSFER LENGTH

    SUBCASE("Data-Out shorter than the CDB asks writes only what arrived") {
        REQUIRE(h.run(rw10(0x2a, 0, 2), filled(1024, 0x11)).status == Status::good);
        REQUIRE(h.run(rw10(0x2a, 0, 2), filled(512, 0xee)).status == Status::good);
        CHECK(data_in(h.run(rw10(0x28, 0, 2))) == concat_bytes(filled(512, 0xee), filled(512, 0x11)));
        REQUIRE(h.run(rw10(0x2a, 0, 1), filled(200, 0x22)).status == Status::good);
        CHECK(data_in(h.run(rw10(0x28, 0, 1))) == concat_bytes(filled(200, 0x22), filled(312, 0xee)));
        REQUIRE(h.run(rw10(0x2e, 1, 1, 0x02), filled(100, 0x33)).status == Status::good);
        CHECK(data_in(h.run(rw10(0x28, 1, 1))) == concat_bytes(filled(100, 0x33), filled(412, 0x11)));
    }
    SUBCASE("Data-Out longer than the CDB asks writes only the CDB's blocks") {
        REQUIRE(h.run(rw10(0x2a, 0, 1), filled(1024, 0xee)).status == Status::good);
        CHECK(data_in(h.run(rw10(0x28, 1, 1))) == filled(512, 0));
    }
    SUBCASE("backend failures") {
        h.disk->fail_with(std::make_error_code(std::errc::io_error));
        check_sense(h.run(rw10(0x28, 0, 1)), kMediumError, 0x1100);
        check_sense(h.run(rw10(0x2a, 0, 1), filled(512, 0)), kMediumError, 0x0c00);
        h.disk->fail_with(std::make_error_code(std::errc::no_space_on_device));
        check_sense(h.run(rw10(0x2a, 0, 1), filled(512, 0)), kDataProtect, 0x2707);
        // A full quota is out of space too (SPACE ALLOCATION FAILED WRITE PROTECT), not a medium error.
        h.disk->fail_with(std::error_code(EDQUOT, std::system_category()));
        check_sense(h.run(rw10(0x2a, 0, 1), filled(512, 0)), kDataProtect, 0x2707);
        check_sense(h.run(Bytes{0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0}), kDataProtect, 0x2707);
    }
}

TEST_CASE("read-only logical unit") {
    Harness h(Options{.read_only = true});
    check_sense(h.run(rw10(0x2a, 0, 1), filled(512, 0)), kDataProtect, 0x2700);
    check_sense(h.run(rw10(0x41, 0, 1), filled(512, 0)), kDataProtect, 0x2700);
    CHECK(h.run(rw10(0x28, 0, 1)).status == Status::good);
    auto ms = data_in(h.run(Bytes{0x1a, 0, 0x3f, 0, 255, 0}));
    CHECK((ms[2] & 0x80) != 0);
}

TEST_CASE("verify") {
    Harness h;
    const auto data = filled(1024, 0x5a);
    REQUIRE(h.run(rw10(0x2a, 4, 2), data).status == Status::good);
    CHECK(h.run(rw10(0x2f, 4, 2)).status == Status::good);
    CHECK(h.run(rw10(0x2f, 4, 2, 0x02), data).status == Status::good);
    auto wrong = data;
    wrong[700] = 0;
    auto t = h.run(rw16(0x8f, 4, 2, 0x02), wrong);
    check_sense(t, kMiscompare, 0x1d00);
    CHECK(load_be<std::uint32_t>(t.sense.data() + 3) == 700);
    CHECK(h.run(rw12(0xaf, 4, 2, 0x06), filled(512, 0x5a)).status == Status::good);  // BYTCHK 3
    check_sense(h.run(rw10(0x2f, 4, 2, 0x04)), kIllegalRequest, 0x2400);
    check_sense(h.run(rw10(0x2f, 4, 2, 0x20)), kIllegalRequest, 0x2400);
    check_sense(h.run(rw10(0x2f, 2047, 2)), kIllegalRequest, 0x2100);
}

TEST_CASE("write and verify") {
    Harness h;
    const auto data = filled(512, 0x77);
    CHECK(h.run(rw10(0x2e, 1, 1, 0x02), data).status == Status::good);
    CHECK(h.run(rw12(0xae, 2, 1), data).status == Status::good);
    CHECK(h.run(rw16(0x8e, 3, 1), data).status == Status::good);
    CHECK(data_in(h.run(rw10(0x28, 1, 3))) == filled(1536, 0x77));
    check_sense(h.run(rw10(0x2e, 1, 1, 0x04), data), kIllegalRequest, 0x2400);
}

TEST_CASE("synchronize cache and prefetch") {
    Harness h(Options{.blocks = 100});
    CHECK(h.run(rw10(0x35, 0, 0)).status == Status::good);
    CHECK(h.run(rw16(0x91, 10, 5)).status == Status::good);
    CHECK(h.disk->flushes == 2);
    check_sense(h.run(rw10(0x35, 101, 0)), kIllegalRequest, 0x2100);
    CHECK(h.run(rw10(0x34, 0, 10)).status == Status::good);
    check_sense(h.run(rw16(0x90, 99, 2)), kIllegalRequest, 0x2100);
}

TEST_CASE("write same") {
    Harness h;
    const auto block = filled(512, 0x3c);
    REQUIRE(h.run(rw10(0x41, 8, 4), block).status == Status::good);
    CHECK(data_in(h.run(rw10(0x28, 8, 4))) == filled(2048, 0x3c));

    SUBCASE("unmap bit deallocates whatever the pattern") {
        REQUIRE(h.run(rw10(0x41, 8, 2, 0x08), filled(512, 0x99)).status == Status::good);
        CHECK(data_in(h.run(rw10(0x28, 8, 2))) == filled(1024, 0));
    }
    SUBCASE("unmap bit on a thick unit writes the pattern") {
        Harness thick(Options{.thin = false});
        REQUIRE(thick.run(rw10(0x41, 8, 2, 0x08), filled(512, 0x99)).status == Status::good);
        CHECK(data_in(thick.run(rw10(0x28, 8, 2))) == filled(1024, 0x99));
    }
    SUBCASE("unmap bit deallocates a zero pattern") {
        REQUIRE(h.run(rw16(0x93, 8, 4, 0x08), filled(512, 0)).status == Status::good);
        CHECK(data_in(h.run(rw10(0x28, 8, 4))) == filled(2048, 0));
        auto status = data_in(h.run(Bytes{0x9e, 0x12, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 24, 0, 0}));
        CHECK(status[8 + 12] == 1);  // deallocated
    }
    SUBCASE("zero blocks means through the end, within MAXIMUM WRITE SAME LENGTH") {
        REQUIRE(h.run(rw10(0x41, 2040, 0), filled(512, 0x44)).status == Status::good);
        CHECK(data_in(h.run(rw10(0x28, 2040, 8))) == filled(8 * 512, 0x44));
        CHECK(h.run(rw10(0x41, 2048, 0), filled(512, 0x44)).status == Status::good);
        check_sense(h.run(rw10(0x41, 2049, 0), block), kIllegalRequest, 0x2100);
        Harness big(Options{.blocks = 40000});
        check_sense(big.run(rw10(0x41, 0, 0), block), kIllegalRequest, 0x2400);  // 40000 > 16 MiB of blocks
        CHECK(big.run(rw10(0x41, 40000 - 32768, 0), block).status == Status::good);
    }
    SUBCASE("NDOB writes zeros without Data-Out") {
        REQUIRE(h.run(rw16(0x93, 8, 4, 0x09)).status == Status::good);
        CHECK(data_in(h.run(rw10(0x28, 8, 4))) == filled(2048, 0));
    }
    SUBCASE("invalid requests") {
        check_sense(h.run(rw10(0x41, 8, 1, 0x10), block), kIllegalRequest, 0x2400);  // ANCHOR
        check_sense(h.run(rw10(0x41, 8, 1, 0x04), block), kIllegalRequest, 0x2400);  // PBDATA
        check_sense(h.run(rw10(0x41, 8, 1, 0x02), block), kIllegalRequest, 0x2400);  // LBDATA
        check_sense(h.run(rw10(0x41, 8, 1, 0x20), block), kIllegalRequest, 0x2400);  // WRPROTECT
        check_sense(h.run(rw10(0x41, 2047, 2), block), kIllegalRequest, 0x2100);
        check_sense(h.run(rw10(0x41, 8, 1), filled(1024, 1)), kIllegalRequest, 0x0e03);  // two blocks of data
        check_sense(h.run(rw10(0x41, 8, 1), filled(256, 1)), kIllegalRequest, 0x0e03);
    }
}

TEST_CASE("unmap") {
    Harness h;
    REQUIRE(h.run(rw10(0x2a, 0, 8), filled(8 * 512, 0xff)).status == Status::good);
    auto list = [](std::vector<std::pair<std::uint64_t, std::uint32_t>> ranges) {
        Bytes p(8 + 16 * ranges.size(), 0);
        store_be<std::uint16_t>(p.data(), static_cast<std::uint16_t>(p.size() - 2));
        store_be<std::uint16_t>(p.data() + 2, static_cast<std::uint16_t>(16 * ranges.size()));
        for (std::size_t i = 0; i < ranges.size(); ++i) {
            store_be<std::uint64_t>(p.data() + 8 + 16 * i, ranges[i].first);
            store_be<std::uint32_t>(p.data() + 16 + 16 * i, ranges[i].second);
        }
        return p;
    };
    auto cdb = [](std::size_t length, std::uint8_t flags = 0) {
        Bytes c(10, 0);
        c[0] = 0x42;
        c[1] = flags;
        store_be<std::uint16_t>(c.data() + 7, static_cast<std::uint16_t>(length));
        return c;
    };
    auto p = list({{1, 2}, {5, 1}, {7, 0}});
    REQUIRE(h.run(cdb(p.size()), p).status == Status::good);
    auto d = data_in(h.run(rw10(0x28, 0, 8)));
    for (int b = 0; b < 8; ++b) {
        const bool unmapped = b == 1 || b == 2 || b == 5;
        CHECK(d[b * 512] == (unmapped ? 0 : 0xff));
    }
    auto status = data_in(h.run(Bytes{0x9e, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0}));
    REQUIRE(load_be<std::uint32_t>(status.data()) >= 4 + 4 * 16);
    CHECK(load_be<std::uint64_t>(status.data() + 8) == 0);
    CHECK(load_be<std::uint32_t>(status.data() + 16) == 1);
    CHECK(status[20] == 0);
    CHECK(load_be<std::uint64_t>(status.data() + 24) == 1);
    CHECK(load_be<std::uint32_t>(status.data() + 32) == 2);
    CHECK(status[36] == 1);

    CHECK(h.run(cdb(0)).status == Status::good);
    check_sense(h.run(cdb(p.size(), 0x01), p), kIllegalRequest, 0x2400);  // ANCHOR
    auto beyond = list({{2047, 2}});
    check_sense(h.run(cdb(beyond.size()), beyond), kIllegalRequest, 0x2100);
    check_sense(h.run(cdb(4), Bytes{0, 2, 0, 0}), kIllegalRequest, 0x1a00);
    auto truncated = list({{1, 1}});
    truncated.resize(12);
    check_sense(h.run(cdb(truncated.size()), truncated), kIllegalRequest, 0x1a00);
    std::vector<std::pair<std::uint64_t, std::uint32_t>> many(257, {0, 1});
    auto too_many = list(many);
    check_sense(h.run(cdb(too_many.size()), too_many), kIllegalRequest, 0x2600);
}

TEST_CASE("get lba status") {
    Harness h(Options{.blocks = 64});
    check_sense(h.run(Bytes{0x9e, 0x12, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0, 0, 24, 0, 0}), kIllegalRequest,
                0x2100);
    REQUIRE(h.run(rw10(0x2a, 0, 4), filled(2048, 1)).status == Status::good);
    auto d = data_in(h.run(Bytes{0x9e, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 24, 0, 0}));
    REQUIRE(d.size() == 24);
    CHECK(load_be<std::uint32_t>(d.data()) == 20);
    CHECK(load_be<std::uint32_t>(d.data() + 16) == 4);
    CHECK(d[20] == 0);
}

TEST_CASE("request sense") {
    Harness h;
    auto t = h.run(Bytes{0x03, 0, 0, 0, 252, 0});
    REQUIRE(t.status == Status::good);
    auto d = data_in(t);
    REQUIRE(d.size() == 18);
    CHECK(d[0] == 0x70);
    CHECK(d[2] == 0);
    auto desc = data_in(h.run(Bytes{0x03, 1, 0, 0, 252, 0}));
    CHECK(desc[0] == 0x72);
}

TEST_CASE("start stop unit and prevent allow") {
    Harness h;
    CHECK(h.run(Bytes{0x1b, 0, 0, 0, 0x01, 0}).status == Status::good);
    CHECK(h.run(Bytes{0x1b, 0, 0, 0, 0x00, 0}).status == Status::good);
    CHECK(h.disk->flushes == 1);
    CHECK(h.run(Bytes{0x1b, 0, 0, 0, 0x03, 0}).status == Status::good);
    check_sense(h.run(Bytes{0x1b, 0, 0, 0, 0x40, 0}), kIllegalRequest, 0x2400);
    CHECK(h.run(Bytes{0x1e, 0, 0, 0, 1, 0}).status == Status::good);
    CHECK(h.run(Bytes{0x1e, 0, 0, 0, 0, 0}).status == Status::good);
    check_sense(h.run(Bytes{0x1e, 0, 0, 0, 2, 0}), kIllegalRequest, 0x2400);
}

TEST_CASE("runs_inline follows the table") {
    Harness h;
    Task t;
    t.reset();
    t.cdb_length = 16;
    t.cdb_bytes[0] = 0x28;
    CHECK_FALSE(h.target->runs_inline(t));
    t.cdb_bytes[0] = 0x12;
    CHECK(h.target->runs_inline(t));
    t.cdb_bytes[0] = 0x25;
    CHECK(h.target->runs_inline(t));
    t.cdb_bytes[0] = 0x35;
    CHECK_FALSE(h.target->runs_inline(t));
}

TEST_CASE("the CDB's Data-Out length is reported for residuals") {
    Harness h;
    CHECK(h.run(rw10(0x2a, 0, 2), filled(512, 1)).cdb_data_out_length == 1024u);
    CHECK(h.run(rw16(0x8a, 1u << 30, 3), filled(512, 1)).cdb_data_out_length == 1536u);  // even when it fails
    CHECK(h.run(rw10(0x2f, 0, 4, 0x02), filled(2048, 0)).cdb_data_out_length == 2048u);
    CHECK(h.run(rw10(0x2f, 0, 4)).cdb_data_out_length == 0u);
    CHECK(h.run(rw10(0x41, 0, 4), filled(512, 0)).cdb_data_out_length == 512u);
    CHECK(h.run(Bytes{0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0}, filled(24, 0)).cdb_data_out_length == 24u);
    CHECK_FALSE(h.run(rw10(0x28, 0, 1)).cdb_data_out_length.has_value());
}

TEST_CASE("task buffers are page-aligned as they grow, so direct writes need no bounce copy") {
    bootherd::scsi::Task task;
    for (std::size_t size : {512u, 4096u, 65536u, 1048576u}) {
        const auto buffer = task.data_out_buffer(size);
        CHECK(reinterpret_cast<std::uintptr_t>(buffer.data()) % 4096 == 0);
    }
}
