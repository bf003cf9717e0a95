// The machine status from the recorded session state, the newest boot and the time, with made-up boots.
#include <doctest/doctest.h>

#include "boots/machine_status.hpp"

using namespace bootherd;
using namespace bootherd::boots;
using db::BootOutcome;

namespace {

constexpr std::int64_t start = 1'000'000;

db::Boot boot(BootOutcome outcome, std::string reason = {}) {
    db::Boot b{.id = 1, .node_id = 7, .started_at = start};
    b.outcome = outcome;
    b.reason = std::move(reason);
    if (outcome != BootOutcome::running) b.ended_at = start + 60'000;
    return b;
}

db::Boot os_up(db::Boot b) {
    b.firmware_login_at = start + 1000;
    b.os_login_at = start + 20'000;
    return b;
}

MachineStatus status(std::string_view state, const std::optional<db::Boot>& latest,
                     std::int64_t now = start + 30'000) {
    return machine_status(state, latest, now);
}

}  // namespace

TEST_CASE("machine status: without a boot record the session decides") {
    CHECK(status("online", std::nullopt) == MachineStatus::booted);
    CHECK(status("offline", std::nullopt) == MachineStatus::off);
    // Whatever else the column holds (a fresh node's "new", an older serve's "booting") means no session.
    CHECK(status("new", std::nullopt) == MachineStatus::off);
    CHECK(status("booting", std::nullopt) == MachineStatus::off);
    CHECK(status("", std::nullopt) == MachineStatus::off);
}

TEST_CASE("machine status: an ok boot is booted while the session lasts, then off") {
    CHECK(status("online", os_up(boot(BootOutcome::ok, "stayed_up"))) == MachineStatus::booted);
    CHECK(status("offline", os_up(boot(BootOutcome::ok, "stayed_up"))) == MachineStatus::off);
}

TEST_CASE("machine status: a running boot is booting until the OS logs in") {
    auto running = boot(BootOutcome::running);
    CHECK(status("offline", running) == MachineStatus::booting);  // script served, no login yet
    running.firmware_login_at = start + 1000;
    CHECK(status("online", running) == MachineStatus::booting);  // the firmware's session
    CHECK(status("online", os_up(running)) == MachineStatus::booted);
    CHECK(status("offline", os_up(running)) == MachineStatus::off);  // the OS went away again
}

TEST_CASE("machine status: a running boot nobody ends stops counting as booting") {
    // With serve stopped, nothing ends a running boot: the CLI must not say booting forever.
    const auto running = boot(BootOutcome::running);
    CHECK(status("offline", running, start + kBootingLimitMs - 1) == MachineStatus::booting);
    CHECK(status("offline", running, start + kBootingLimitMs) == MachineStatus::off);
    CHECK(status("offline", running, start + 6 * kBootingLimitMs) == MachineStatus::off);
    // A session means serve is running and will end the boot itself.
    CHECK(status("online", running, start + 6 * kBootingLimitMs) == MachineStatus::booting);
}

TEST_CASE("machine status: a failed boot stays failed unless the machine is up after all") {
    CHECK(status("offline", boot(BootOutcome::failed, "no_os_login")) == MachineStatus::failed);
    CHECK(status("offline", boot(BootOutcome::failed, "health_failed"), start + 1'000'000'000) ==
          MachineStatus::failed);
    // The OS logged in after the timeout and is still there.
    CHECK(status("online", boot(BootOutcome::failed, "no_os_login")) == MachineStatus::booted);
    // It is up, but said itself that it is broken.
    CHECK(status("online", os_up(boot(BootOutcome::failed, "health_failed"))) == MachineStatus::failed);
}

TEST_CASE("machine status: names") {
    for (const auto s :
         {MachineStatus::off, MachineStatus::booting, MachineStatus::booted, MachineStatus::failed})
        CHECK(parse_machine_status(to_string(s)) == s);
    CHECK(to_string(MachineStatus::booted) == "booted");
    CHECK(to_string(MachineStatus::failed) == "failed");
    CHECK_FALSE(parse_machine_status("Booted"));
    CHECK_FALSE(parse_machine_status(""));
    CHECK_FALSE(parse_machine_status("online"));
}
