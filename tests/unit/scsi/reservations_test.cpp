#include <doctest/doctest.h>

#include "tests/unit/scsi/harness.hpp"

using namespace bootherd;
using namespace bootherd::scsi;
using namespace bootherd::scsi::testing;

namespace {

enum : std::uint8_t {
    kRegister = 0,
    kReserve = 1,
    kRelease = 2,
    kClear = 3,
    kPreempt = 4,
    kRegisterIgnore = 6
};
enum : std::uint8_t { kWE = 1, kEA = 3, kWERO = 5, kEARO = 6, kWEAR = 7, kEAAR = 8 };

Task prout(Harness& h, const Nexus& n, std::uint8_t action, std::uint64_t key, std::uint64_t sark,
           std::uint8_t type = 0, std::uint8_t flags = 0) {
    Bytes cdb(10, 0);
    cdb[0] = 0x5f;
    cdb[1] = action;
    cdb[2] = type;
    cdb[8] = 24;
    Bytes p(24, 0);
    store_be<std::uint64_t>(p.data(), key);
    store_be<std::uint64_t>(p.data() + 8, sark);
    p[20] = flags;
    return h.run(cdb, n, p);
}

Bytes prin(Harness& h, const Nexus& n, std::uint8_t action) {
    auto t = h.run(Bytes{0x5e, action, 0, 0, 0, 0, 0, 0x10, 0x00, 0}, n);
    REQUIRE(t.status == Status::good);
    return data_in(t);
}

std::vector<std::uint64_t> keys(Harness& h, const Nexus& n) {
    auto d = prin(h, n, 0);
    std::vector<std::uint64_t> out;
    for (std::size_t i = 8; i + 8 <= d.size(); i += 8)
        out.push_back(load_be<std::uint64_t>(d.data() + i));
    CHECK(load_be<std::uint32_t>(d.data() + 4) == 8 * out.size());
    return out;
}

bool can_read(Harness& h, const Nexus& n) {
    auto t = h.run(rw10(0x28, 0, 1), n);
    CHECK((t.status == Status::good || t.status == Status::reservation_conflict));
    return t.status == Status::good;
}
bool can_write(Harness& h, const Nexus& n) {
    auto t = h.run(rw10(0x2a, 0, 1), n, filled(512, 0));
    CHECK((t.status == Status::good || t.status == Status::reservation_conflict));
    return t.status == Status::good;
}

}  // namespace

TEST_CASE("PR: register, re-register, unregister") {
    Harness h;
    CHECK(prout(h, h.a, kRegister, 0, 0xaa).status == Status::good);
    CHECK(keys(h, h.a) == std::vector<std::uint64_t>{0xaa});
    CHECK(prout(h, h.a, kRegister, 0, 0xbb).status == Status::reservation_conflict);  // wrong key
    CHECK(prout(h, h.a, kRegister, 0xaa, 0xbb).status == Status::good);
    CHECK(prout(h, h.a, kRegisterIgnore, 0, 0xcc).status == Status::good);
    CHECK(keys(h, h.a) == std::vector<std::uint64_t>{0xcc});
    CHECK(prout(h, h.b, kRegister, 0x1, 0xdd).status == Status::reservation_conflict);  // not registered
    CHECK(prout(h, h.a, kRegister, 0xcc, 0).status == Status::good);
    CHECK(keys(h, h.a).empty());
    const auto generation = load_be<std::uint32_t>(prin(h, h.a, 0).data());
    CHECK(generation == 4);
}

TEST_CASE("PR: unsupported parameter bits and lengths") {
    Harness h;
    check_sense(prout(h, h.a, kRegister, 0, 1, 0, 0x01), 0x05, 0x2600);  // APTPL
    check_sense(prout(h, h.a, kRegister, 0, 1, 0, 0x04), 0x05, 0x2600);  // ALL_TG_PT
    check_sense(prout(h, h.a, kRegister, 0, 1, 0, 0x08), 0x05, 0x2600);  // SPEC_I_PT
    Bytes cdb = {0x5f, 0, 0, 0, 0, 0, 0, 0, 20, 0};
    check_sense(h.run(cdb, h.a, filled(20, 0)), 0x05, 0x1a00);
    check_sense(h.run(Bytes{0x5f, 7, 0, 0, 0, 0, 0, 0, 24, 0}, h.a, filled(24, 0)), 0x05, 0x2400);
    check_sense(h.run(Bytes{0x5e, 4, 0, 0, 0, 0, 0, 0, 24, 0}, h.a), 0x05, 0x2400);
}

TEST_CASE("PR: report capabilities") {
    Harness h;
    auto d = prin(h, h.a, 2);
    REQUIRE(d.size() == 8);
    CHECK(load_be<std::uint16_t>(d.data()) == 8);
    CHECK((d[2] & 0x01) == 0);  // PTPL_C
    CHECK((d[3] & 0x80) != 0);
    CHECK(d[4] == 0xea);
    CHECK(d[5] == 0x01);
}

TEST_CASE("PR: access rules per reservation type") {
    struct Case {
        std::uint8_t type;
        bool registered_read, registered_write, other_read, other_write;
    };
    const Case cases[] = {
        {kWE, true, false, true, false},  {kEA, false, false, false, false},
        {kWERO, true, true, true, false}, {kEARO, true, true, false, false},
        {kWEAR, true, true, true, false}, {kEAAR, true, true, false, false},
    };
    for (const auto& c : cases) {
        CAPTURE(int{c.type});
        Harness h;
        Nexus third = make_nexus(3, "iqn.2026-01.test:gamma");
        h.target->attach(third);
        h.clear_unit_attentions(third);
        REQUIRE(prout(h, h.a, kRegister, 0, 0xa).status == Status::good);
        REQUIRE(prout(h, h.b, kRegister, 0, 0xb).status == Status::good);
        REQUIRE(prout(h, h.a, kReserve, 0xa, 0, c.type).status == Status::good);
        CHECK(can_read(h, h.a));
        CHECK(can_write(h, h.a));
        CHECK(can_read(h, h.b) == c.registered_read);
        CHECK(can_write(h, h.b) == c.registered_write);
        CHECK(can_read(h, third) == c.other_read);
        CHECK(can_write(h, third) == c.other_write);
        // INQUIRY, TUR, READ CAPACITY and PR IN always work.
        CHECK(h.run(Bytes{0x12, 0, 0, 0, 36, 0}, third).status == Status::good);
        CHECK(h.run(Bytes{0x00, 0, 0, 0, 0, 0}, third).status == Status::good);
        CHECK(h.run(Bytes{0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}, third).status == Status::good);

        auto reservation = prin(h, h.b, 1);
        REQUIRE(load_be<std::uint32_t>(reservation.data() + 4) == 16);
        CHECK(reservation[21] == c.type);
        const bool all_registrants = c.type == kWEAR || c.type == kEAAR;
        CHECK(load_be<std::uint64_t>(reservation.data() + 8) == (all_registrants ? 0 : 0xa));

        // Reserving again with another type conflicts; the non-holder's release is a no-op.
        CHECK(prout(h, h.a, kReserve, 0xa, 0, c.type == kWE ? kEA : kWE).status ==
              Status::reservation_conflict);
        if (!all_registrants) {
            CHECK(prout(h, h.b, kRelease, 0xb, 0, c.type).status == Status::good);
            CHECK(load_be<std::uint32_t>(prin(h, h.a, 1).data() + 4) == 16);
        }
        check_sense(prout(h, h.a, kRelease, 0xa, 0, c.type == kWE ? kEA : kWE), 0x05, 0x2604);
        CHECK(prout(h, h.a, kRelease, 0xa, 0, c.type).status == Status::good);
        CHECK(load_be<std::uint32_t>(prin(h, h.a, 1).data() + 4) == 0);
        CHECK(can_write(h, third));
    }
}

TEST_CASE("PR: releasing a registrants-only reservation notifies the other registrants") {
    Harness h;
    REQUIRE(prout(h, h.a, kRegister, 0, 0xa).status == Status::good);
    REQUIRE(prout(h, h.b, kRegister, 0, 0xb).status == Status::good);
    REQUIRE(prout(h, h.a, kReserve, 0xa, 0, kWERO).status == Status::good);
    REQUIRE(prout(h, h.a, kRelease, 0xa, 0, kWERO).status == Status::good);
    auto t = h.run(Bytes{0x00, 0, 0, 0, 0, 0}, h.b);
    check_sense(t, 0x06, 0x2a04);
    CHECK(h.run(Bytes{0x00, 0, 0, 0, 0, 0}, h.a).status == Status::good);
}

TEST_CASE("PR: preempt removes the holder and takes the reservation") {
    Harness h;
    REQUIRE(prout(h, h.a, kRegister, 0, 0xa).status == Status::good);
    REQUIRE(prout(h, h.b, kRegister, 0, 0xb).status == Status::good);
    REQUIRE(prout(h, h.a, kReserve, 0xa, 0, kWE).status == Status::good);
    CHECK(prout(h, h.b, kPreempt, 0xb, 0xa, kEA).status == Status::good);
    CHECK(keys(h, h.b) == std::vector<std::uint64_t>{0xb});
    auto reservation = prin(h, h.b, 1);
    CHECK(load_be<std::uint64_t>(reservation.data() + 8) == 0xb);
    CHECK(reservation[21] == kEA);
    check_sense(h.run(Bytes{0x00, 0, 0, 0, 0, 0}, h.a), 0x06, 0x2a05);
    CHECK(h.run(rw10(0x28, 0, 1), h.a).status == Status::reservation_conflict);

    SUBCASE("preempting an unknown key conflicts") {
        CHECK(prout(h, h.b, kPreempt, 0xb, 0x77, kEA).status == Status::reservation_conflict);
    }
    SUBCASE("preempting without a reservation only removes registrations") {
        REQUIRE(prout(h, h.b, kRelease, 0xb, 0, kEA).status == Status::good);
        h.clear_unit_attentions(h.a);
        REQUIRE(prout(h, h.a, kRegister, 0, 0xa).status == Status::good);
        CHECK(prout(h, h.b, kPreempt, 0xb, 0xa, kEA).status == Status::good);
        CHECK(keys(h, h.b) == std::vector<std::uint64_t>{0xb});
        CHECK(load_be<std::uint32_t>(prin(h, h.b, 1).data() + 4) == 0);
    }
}

TEST_CASE("PR: clear removes everything") {
    Harness h;
    REQUIRE(prout(h, h.a, kRegister, 0, 0xa).status == Status::good);
    REQUIRE(prout(h, h.b, kRegister, 0, 0xb).status == Status::good);
    REQUIRE(prout(h, h.a, kReserve, 0xa, 0, kEA).status == Status::good);
    CHECK(prout(h, h.b, kClear, 0xa, 0).status == Status::reservation_conflict);
    CHECK(prout(h, h.b, kClear, 0xb, 0).status == Status::good);
    check_sense(h.run(Bytes{0x00, 0, 0, 0, 0, 0}, h.a), 0x06, 0x2a03);
    CHECK(keys(h, h.a).empty());
    CHECK(can_write(h, h.a));
}

TEST_CASE("PR: registrations survive the nexus but follow the initiator port") {
    Harness h;
    REQUIRE(prout(h, h.a, kRegister, 0, 0xa).status == Status::good);
    REQUIRE(prout(h, h.a, kReserve, 0xa, 0, kEA).status == Status::good);
    h.target->detach(h.a.id);
    Nexus again = h.a;
    again.id = 10;
    h.target->attach(again);
    h.clear_unit_attentions(again);
    CHECK(can_write(h, again));
    CHECK_FALSE(can_write(h, h.b));
    auto full = prin(h, h.b, 3);
    REQUIRE(load_be<std::uint32_t>(full.data() + 4) >= 24);
    CHECK(load_be<std::uint64_t>(full.data() + 8) == 0xa);
    CHECK(full[8 + 12] == 0x01);  // R_HOLDER
    CHECK(full[8 + 13] == kEA);
    CHECK(full[8 + 24] == 0x45);  // iSCSI TransportID, initiator port form
    const std::string name(reinterpret_cast<const char*>(full.data() + 8 + 28));
    CHECK(name == h.a.initiator_port);
}

TEST_CASE("RESERVE(6) / RELEASE(6)") {
    Harness h;
    const Bytes reserve = {0x16, 0, 0, 0, 0, 0};
    const Bytes release = {0x17, 0, 0, 0, 0, 0};
    REQUIRE(h.run(reserve, h.a).status == Status::good);
    CHECK(h.run(reserve, h.a).status == Status::good);
    CHECK(h.run(reserve, h.b).status == Status::reservation_conflict);
    CHECK(h.run(Bytes{0x00, 0, 0, 0, 0, 0}, h.b).status == Status::reservation_conflict);
    CHECK(h.run(Bytes{0x12, 0, 0, 0, 36, 0}, h.b).status == Status::good);
    CHECK(h.run(release, h.b).status == Status::good);  // not the holder: no effect
    CHECK(h.run(Bytes{0x00, 0, 0, 0, 0, 0}, h.b).status == Status::reservation_conflict);
    CHECK(can_write(h, h.a));
    CHECK(h.run(release, h.a).status == Status::good);
    CHECK(h.run(Bytes{0x00, 0, 0, 0, 0, 0}, h.b).status == Status::good);

    SUBCASE("lost with the nexus") {
        REQUIRE(h.run(reserve, h.a).status == Status::good);
        h.target->detach(h.a.id);
        CHECK(h.run(Bytes{0x00, 0, 0, 0, 0, 0}, h.b).status == Status::good);
    }
    SUBCASE("lost with a logical unit reset") {
        REQUIRE(h.run(reserve, h.a).status == Status::good);
        h.target->reset(ResetKind::logical_unit, 0, h.a);
        check_sense(h.run(Bytes{0x00, 0, 0, 0, 0, 0}, h.b), 0x06, 0x2903);
        CHECK(h.run(Bytes{0x00, 0, 0, 0, 0, 0}, h.b).status == Status::good);
    }
    SUBCASE("conflicts with a persistent reservation") {
        REQUIRE(h.run(release, h.a).status == Status::good);
        REQUIRE(prout(h, h.b, kRegister, 0, 0xb).status == Status::good);
        REQUIRE(prout(h, h.b, kReserve, 0xb, 0, kWE).status == Status::good);
        CHECK(h.run(reserve, h.a).status == Status::reservation_conflict);
    }
}
