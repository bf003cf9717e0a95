// The outcome rules with made-up times: every case feeds steps and asks for timeouts at chosen instants.
#include <doctest/doctest.h>

#include "boots/boot_outcome.hpp"

using namespace bootherd;
using namespace bootherd::boots;
using db::BootOutcome;

namespace {

constexpr Thresholds t{.ok_window_ms = 120'000, .os_login_timeout_ms = 300'000, .pending_expiry_ms = 120'000};
const db::Boot fresh{.node_id = 7, .mac = "02:00:00:00:00:07", .version_id = 3};

// A boot that got its script at `at` and its firmware login and first read a second later.
NodeBoots booted_firmware(std::int64_t at) {
    NodeBoots node;
    apply(node, Signal::script, at, fresh, t);
    apply(node, Signal::firmware_login, at + 1000, fresh, t);
    apply(node, Signal::first_read, at + 1100, fresh, t);
    return node;
}

}  // namespace

TEST_CASE("outcome: the PXE steps before the script start the boot") {
    NodeBoots node;
    CHECK_FALSE(apply(node, Signal::pxe_dhcp, 1000, fresh, t).latest_changed);
    apply(node, Signal::pxe_dhcp, 3000, fresh, t);  // iPXE's own DHCP: still the same start
    apply(node, Signal::tftp, 2000, fresh, t);
    CHECK_FALSE(node.latest);
    const auto started = apply(node, Signal::script, 5000, fresh, t);
    CHECK(started.latest_changed);
    CHECK_FALSE(started.ended);
    REQUIRE(node.latest);
    CHECK(node.latest->id == 0);
    CHECK(node.latest->node_id == 7);
    CHECK(node.latest->version_id == 3);
    CHECK(node.latest->started_at == 1000);
    CHECK(node.latest->dhcp_at == 1000);
    CHECK(node.latest->tftp_at == 2000);
    CHECK(node.latest->script_at == 5000);
    CHECK(node.latest->outcome == BootOutcome::running);
    CHECK_FALSE(node.pending_dhcp);
}

TEST_CASE("outcome: stale PXE steps do not date a later boot") {
    NodeBoots node;
    apply(node, Signal::pxe_dhcp, 0, fresh, t);
    apply(node, Signal::script, 200'000, fresh, t);
    CHECK(node.latest->started_at == 200'000);
    CHECK_FALSE(node.latest->dhcp_at);
    apply(node, Signal::tftp, 201'000, fresh, t);  // no PXE exchange pending: not a boot step
    CHECK_FALSE(node.pending_tftp);
}

TEST_CASE("outcome: ok by health report") {
    auto node = booted_firmware(0);
    apply(node, Signal::os_login, 20'000, fresh, t);
    CHECK(node.latest->firmware_login_at == 1000);
    CHECK(node.latest->first_read_at == 1100);
    CHECK(node.latest->os_login_at == 20'000);
    const auto report = report_health(node, Health::ok, "all good", 30'000, t);
    CHECK(report.accepted);
    CHECK(report.latest_ended);
    CHECK(node.latest->outcome == BootOutcome::ok);
    CHECK(node.latest->reason == "health_ok");
    CHECK(node.latest->message == "all good");
    CHECK(node.latest->health_at == 30'000);
    CHECK(node.latest->ended_at == 30'000);
    // A second report finds no running boot.
    CHECK_FALSE(report_health(node, Health::failed, "", 31'000, t).accepted);
    CHECK(node.latest->outcome == BootOutcome::ok);
}

TEST_CASE("outcome: an ok report before the OS login waits for it") {
    auto node = booted_firmware(0);
    const auto report = report_health(node, Health::ok, "", 10'000, t);
    CHECK(report.accepted);
    CHECK_FALSE(report.latest_ended);
    CHECK(node.latest->outcome == BootOutcome::running);
    const auto login = apply(node, Signal::os_login, 12'000, fresh, t);
    CHECK(login.latest_ended);
    CHECK(node.latest->outcome == BootOutcome::ok);
    CHECK(node.latest->ended_at == 12'000);
}

TEST_CASE("outcome: ok once the OS stayed up for the window") {
    auto node = booted_firmware(0);
    apply(node, Signal::os_login, 20'000, fresh, t);
    CHECK_FALSE(expire(*node.latest, 20'000 + t.ok_window_ms - 1, t));
    CHECK(node.latest->outcome == BootOutcome::running);
    CHECK(expire(*node.latest, 20'000 + t.ok_window_ms + 5000, t));  // a late tick
    CHECK(node.latest->outcome == BootOutcome::ok);
    CHECK(node.latest->reason == "stayed_up");
    CHECK(node.latest->ended_at == 20'000 + t.ok_window_ms);  // when the window closed, not the tick
    CHECK_FALSE(expire(*node.latest, 10'000'000, t));
}

TEST_CASE("outcome: failed when no OS login comes in time; a late login changes nothing") {
    auto node = booted_firmware(0);
    CHECK_FALSE(expire(*node.latest, t.os_login_timeout_ms - 1, t));
    CHECK(expire(*node.latest, t.os_login_timeout_ms, t));
    CHECK(node.latest->outcome == BootOutcome::failed);
    CHECK(node.latest->reason == "no_os_login");
    CHECK(node.latest->ended_at == t.os_login_timeout_ms);

    auto late = booted_firmware(0);
    const auto login = apply(late, Signal::os_login, t.os_login_timeout_ms + 1, fresh, t);
    CHECK(login.latest_ended);  // the timeout applied first
    CHECK(late.latest->reason == "no_os_login");
    CHECK_FALSE(late.latest->os_login_at);
}

TEST_CASE("outcome: a new PXE boot before ok is a reboot loop") {
    auto node = booted_firmware(0);
    apply(node, Signal::os_login, 20'000, fresh, t);
    const auto pxe = apply(node, Signal::pxe_dhcp, 60'000, fresh, t);
    CHECK(pxe.latest_ended);
    CHECK(node.latest->outcome == BootOutcome::failed);
    CHECK(node.latest->reason == "reboot_loop");
    CHECK(node.latest->ended_at == 60'000);
    const auto old_id = node.latest->id;

    apply(node, Signal::tftp, 61'000, fresh, t);
    const auto next = apply(node, Signal::script, 65'000, fresh, t);
    CHECK_FALSE(next.ended);  // the old boot was stored when it ended
    CHECK(node.latest->outcome == BootOutcome::running);
    CHECK(node.latest->started_at == 60'000);
    CHECK(node.latest->tftp_at == 61'000);
    CHECK(node.latest->id == 0);
    CHECK(old_id == 0);
}

TEST_CASE("outcome: a new script without PXE also ends a running boot; after ok it does not") {
    auto node = booted_firmware(0);
    const auto again = apply(node, Signal::script, 30'000, fresh, t);
    REQUIRE(again.ended);
    CHECK(again.ended->reason == "reboot_loop");
    CHECK(again.ended->ended_at == 30'000);
    CHECK(node.latest->started_at == 30'000);

    apply(node, Signal::os_login, 40'000, fresh, t);
    const auto later = apply(node, Signal::pxe_dhcp, 40'000 + t.ok_window_ms + 1, fresh, t);
    CHECK(later.latest_ended);  // the window closed first: ok, and the PXE boot only waits for a script
    CHECK(node.latest->outcome == BootOutcome::ok);
    CHECK(node.pending_dhcp == 40'000 + t.ok_window_ms + 1);
}

TEST_CASE("outcome: a failed health report fails the boot with its message") {
    auto node = booted_firmware(0);
    apply(node, Signal::os_login, 20'000, fresh, t);
    const auto report = report_health(node, Health::failed, "sshd did not start", 25'000, t);
    CHECK(report.accepted);
    CHECK(report.latest_ended);
    CHECK(node.latest->outcome == BootOutcome::failed);
    CHECK(node.latest->reason == "health_failed");
    CHECK(node.latest->message == "sshd did not start");
    CHECK(node.latest->ended_at == 25'000);
}

TEST_CASE("outcome: no boot, no report; steps of an ended boot are ignored") {
    NodeBoots none;
    CHECK_FALSE(report_health(none, Health::ok, "", 1, t).accepted);
    CHECK_FALSE(apply(none, Signal::os_login, 1, fresh, t).latest_changed);
    CHECK_FALSE(none.latest);

    auto node = booted_firmware(0);
    report_health(node, Health::failed, "", 5000, t);
    CHECK_FALSE(apply(node, Signal::os_login, 6000, fresh, t).latest_changed);
    CHECK_FALSE(node.latest->os_login_at);
}

TEST_CASE("outcome: a second firmware login is the OS's (the event log restarted)") {
    auto node = booted_firmware(0);
    apply(node, Signal::firmware_login, 20'000, fresh, t);
    CHECK(node.latest->firmware_login_at == 1000);
    CHECK(node.latest->os_login_at == 20'000);
}
