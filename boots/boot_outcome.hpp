#pragma once
// The outcome of a boot, as a pure state machine over one node's boots: fed the node's boot steps (from its
// boot events) and health reports with their times, and asked to apply timeouts at a given time. It reads
// no clock and touches no catalog, so every rule is testable with made-up times; BootTracker applies it.
//
// A boot starts when the node is served its sanboot script; the PXE DHCP exchange and TFTP transfer just
// before it (seen within `pending_expiry`) become its first steps. It is `running` until it ends:
//   ok      "health_ok"     the OS logged in and the machine reported health ok;
//           "stayed_up"     the OS logged in and no failure came within `ok_window` after;
//   failed  "no_os_login"   no OS login within `os_login_timeout` of the start;
//           "reboot_loop"   its PXE firmware announced a new boot (or it fetched a new script) before ok;
//           "health_failed" the machine reported failure.
// A health report applies to a running boot only; an ok report before the OS login waits for it.
#include <cstdint>
#include <optional>
#include <string>

#include "db/boots_repo.hpp"

namespace bootherd::boots {

struct Thresholds {
    std::int64_t ok_window_ms = 2 * 60 * 1000;
    std::int64_t os_login_timeout_ms = 5 * 60 * 1000;
    std::int64_t pending_expiry_ms = 2 * 60 * 1000;  // PXE DHCP/TFTP counted towards the next script
};

// The boot steps the boot services report.
enum class Signal {
    pxe_dhcp,        // a DHCP offer or ack naming a boot file: the PXE firmware (or iPXE) starts a boot
    tftp,            // a TFTP transfer to the machine ended
    script,          // the machine was served its sanboot script: a boot starts
    firmware_login,  // iSCSI login of the boot firmware
    first_read,
    os_login,  // iSCSI login of the operating system's own initiator
};

enum class Health { ok, failed };

// What the machine knows of one node: its newest boot (ended or not) and the steps seen since that wait for
// a script to start a boot.
struct NodeBoots {
    std::optional<db::Boot> latest{};
    std::optional<std::int64_t> pending_dhcp{};
    std::optional<std::int64_t> pending_tftp{};
};

// What a call changed, for the caller to store.
struct Transition {
    std::optional<db::Boot> ended{};  // the boot before `latest`, which this signal ended (a reboot loop)
    bool latest_changed = false;      // `latest` changed; its id is 0 when it is a new boot
    bool latest_ended = false;        // ... and it ended with this call
    bool accepted = false;            // report_health: the report applied to a running boot
};

// Ends `boot` if a timeout passed by `now` (at the time the timeout fell due). True when it ended.
bool expire(db::Boot& boot, std::int64_t now, const Thresholds& thresholds);

// The step `signal` at `at`. For a new boot, `fresh` gives its node, MAC and version (steps and outcome are
// filled in here). Timeouts due by `at` are applied first, so a late step cannot revive a boot.
Transition apply(NodeBoots& node, Signal signal, std::int64_t at, const db::Boot& fresh,
                 const Thresholds& thresholds);

// A health report at `at`, with the machine's message. Not accepted (and nothing but a due timeout applied)
// when the node has no running boot.
Transition report_health(NodeBoots& node, Health health, std::string message, std::int64_t at,
                         const Thresholds& thresholds);

}  // namespace bootherd::boots
