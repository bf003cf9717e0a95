#include <doctest/doctest.h>

#include "tests/unit/scsi/harness.hpp"

using namespace bootherd;
using namespace bootherd::scsi;
using namespace bootherd::scsi::testing;

namespace {
const Bytes kTestUnitReady = {0x00, 0, 0, 0, 0, 0};
}

TEST_CASE("UA: power on at attach, reported once, not to INQUIRY/REPORT LUNS") {
    Harness h;
    Nexus n = make_nexus(5, "iqn.2026-01.test:late");
    h.target->attach(n);
    CHECK(h.run(Bytes{0x12, 0, 0, 0, 36, 0}, n).status == Status::good);
    CHECK(h.run(Bytes{0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}, n).status == Status::good);
    check_sense(h.run(rw10(0x28, 0, 1), n), 0x06, 0x2900);
    CHECK(h.run(rw10(0x28, 0, 1), n).status == Status::good);
}

TEST_CASE("UA: REQUEST SENSE reports and clears the condition") {
    Harness h;
    Nexus n = make_nexus(5, "iqn.2026-01.test:late");
    h.target->attach(n);
    auto t = h.run(Bytes{0x03, 0, 0, 0, 252, 0}, n);
    REQUIRE(t.status == Status::good);
    auto d = data_in(t);
    CHECK(d[2] == 0x06);
    CHECK(d[12] == 0x29);
    CHECK(h.run(kTestUnitReady, n).status == Status::good);
}

TEST_CASE("UA: resets") {
    Harness h;
    h.target->reset(ResetKind::target_warm, 0, h.a);
    check_sense(h.run(kTestUnitReady, h.a), 0x06, 0x2902);
    check_sense(h.run(kTestUnitReady, h.b), 0x06, 0x2902);
    h.target->reset(ResetKind::target_cold, 0, h.a);
    check_sense(h.run(kTestUnitReady, h.b), 0x06, 0x2900);
    h.target->reset(ResetKind::logical_unit, 0, h.a);
    check_sense(h.run(kTestUnitReady, h.a), 0x06, 0x2900);  // the cold reset's, still queued
    check_sense(h.run(kTestUnitReady, h.a), 0x06, 0x2903);
}

TEST_CASE("UA: commands cleared by another initiator") {
    Harness h;
    h.target->tasks_cleared(0, h.a, h.b.id);
    h.target->tasks_cleared(0, h.a, h.a.id);
    CHECK(h.run(kTestUnitReady, h.a).status == Status::good);
    check_sense(h.run(kTestUnitReady, h.b), 0x06, 0x2f00);
}

TEST_CASE("UA: capacity data has changed") {
    Harness h(Options{.blocks = 100});
    h.disk->resize(200);
    check_sense(h.run(kTestUnitReady, h.a), 0x06, 0x2a09);
    check_sense(h.run(kTestUnitReady, h.b), 0x06, 0x2a09);
    auto d = data_in(h.run(Bytes{0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
    CHECK(load_be<std::uint32_t>(d.data()) == 199);
}

TEST_CASE("UA: reported in descriptor format when D_SENSE is set") {
    Harness h;
    Bytes control = {0, 0, 0, 0, 0x0a, 0x0a, 0x04, 0x10, 0, 0, 0, 0, 0, 0, 0, 0};
    REQUIRE(h.run(Bytes{0x15, 0x10, 0, 0, static_cast<std::uint8_t>(control.size()), 0}, control).status ==
            Status::good);
    h.target->tasks_cleared(0, h.b, h.a.id);
    auto t = h.run(kTestUnitReady, h.a);
    REQUIRE(t.status == Status::check_condition);
    CHECK(t.sense[0] == 0x72);
    CHECK(t.sense[1] == 0x06);
    // A reset restores the default mode parameters: fixed format again.
    h.target->reset(ResetKind::logical_unit, 0, h.a);
    CHECK(h.run(kTestUnitReady, h.a).sense[0] == 0x70);
}
