#include <doctest/doctest.h>

#include "fake_device.hpp"
#include "target/iscsi/session.hpp"

using namespace bootherd;
using namespace bootherd::iscsi;

namespace {
std::shared_ptr<const TargetNode> node(std::shared_ptr<test::FakeDevice> device) {
    return std::make_shared<const TargetNode>(TargetNode{"iqn.t", std::move(device), {}, {}, {}});
}
}  // namespace

TEST_CASE("the CmdSN window follows the task pool and what was advertised") {
    auto device = std::make_shared<test::FakeDevice>(8);
    {
        Session s(node(device), scsi::Nexus{1, "iqn.i", 1, "iqn.i,i,0x000000000001", 1}, {}, 4, 100, 50);
        CHECK(device->attached == 1);
        SequenceNumbers sn = s.numbers(false);
        CHECK(sn.exp_cmd_sn == 100);
        CHECK(sn.max_cmd_sn == 103);
        CHECK_FALSE(s.admit(99, false));   // below the window
        CHECK_FALSE(s.admit(104, false));  // above MaxCmdSN
        CHECK(s.admit(100, false));
        TaskSlot* a = s.allocate(false, 1);
        REQUIRE(a);
        CHECK(s.find(1) == a);
        sn = s.numbers(true);
        CHECK(sn.stat_sn == 50);
        CHECK(s.numbers(false).stat_sn == 51);
        CHECK(sn.exp_cmd_sn == 101);
        CHECK(sn.max_cmd_sn == 103);  // one task in use keeps the window where it was
        CHECK(s.admit(103, false));
        CHECK(s.admit(5, true));  // immediate: not checked, does not advance
        CHECK(s.exp_cmd_sn() == 104);
        s.release(*a);
        CHECK(s.find(1) == nullptr);
        CHECK(s.numbers(false).max_cmd_sn == 107);
    }
    CHECK(device->detached == 1);
}

TEST_CASE("the pool holds queue_depth tasks plus a reserve for immediate commands") {
    auto device = std::make_shared<test::FakeDevice>(8);
    Session s(node(device), scsi::Nexus{}, {}, 2, 0, 0);
    CHECK(s.pool_size() == 2 + Session::kImmediateReserve);
    std::vector<TaskSlot*> immediate;
    for (std::uint32_t i = 0; i < Session::kImmediateReserve; ++i)
        immediate.push_back(s.allocate(true, 100 + i));
    CHECK(s.allocate(true, 999) == nullptr);
    CHECK(s.allocate(false, 1) != nullptr);
    CHECK(s.allocate(false, 2) != nullptr);
    CHECK(s.in_use() == 2 + Session::kImmediateReserve);
    s.release(*immediate[0]);
    CHECK(s.allocate(true, 999) != nullptr);
}

TEST_CASE("serial number arithmetic wraps") {
    CHECK(serial_less_equal(0xfffffff0u, 5));
    CHECK_FALSE(serial_less_equal(5, 0xfffffff0u));
    CHECK(serial_less_equal(7, 7));
}
