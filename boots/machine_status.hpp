#pragma once
// A machine's status as people see it (off, booting, booted, failed), from catalog facts only, so every
// process — `serve`'s REST API and dashboard, the CLI — gives the same answer for the same catalog. The
// facts: the node's recorded session state (nodes.state, which `serve` keeps: "online" while the node has an
// iSCSI session, its maintenance session on a draft included; anything else means none), its newest boot
// record and the time. Pure: reads no clock and no catalog.
//
//   newest boot      session   status
//   none or ok       yes       booted
//   none or ok       no        off
//   running          yes       booted once the OS logged in, else booting
//   running          no        off once the OS logged in (it went away); else booting for up to
//                              kBootingLimitMs after the start (a `serve` that is not running ends no boot),
//                              then off
//   failed           yes       failed when the machine itself reported failure (health_failed), else booted
//                              (e.g. an OS that logged in after the timeout)
//   failed           no        failed
#include <cstdint>
#include <optional>
#include <string_view>

#include "db/boots_repo.hpp"

namespace bootherd::boots {

enum class MachineStatus { off, booting, booted, failed };

// The nodes.state values `serve` records.
inline constexpr std::string_view kSessionOnline = "online";
inline constexpr std::string_view kSessionOffline = "offline";

// How long a running boot without a session counts as booting: twice the default OS login timeout.
inline constexpr std::int64_t kBootingLimitMs = 10 * 60 * 1000;

MachineStatus machine_status(std::string_view recorded_state, const std::optional<db::Boot>& latest_boot,
                             std::int64_t now_ms);

std::string_view to_string(MachineStatus status) noexcept;
// "off", "booting", "booted", "failed"; nullopt for anything else.
std::optional<MachineStatus> parse_machine_status(std::string_view text) noexcept;

}  // namespace bootherd::boots
