#include "boots/machine_status.hpp"

namespace bootherd::boots {

MachineStatus machine_status(std::string_view recorded_state, const std::optional<db::Boot>& latest_boot,
                             std::int64_t now_ms) {
    const bool session = recorded_state == kSessionOnline;
    if (!latest_boot) return session ? MachineStatus::booted : MachineStatus::off;
    const db::Boot& boot = *latest_boot;
    switch (boot.outcome) {
        case db::BootOutcome::ok:
            return session ? MachineStatus::booted : MachineStatus::off;
        case db::BootOutcome::failed:
            if (session && boot.reason != "health_failed") return MachineStatus::booted;
            return MachineStatus::failed;
        case db::BootOutcome::running:
            break;
    }
    if (boot.os_login_at) return session ? MachineStatus::booted : MachineStatus::off;
    if (session || now_ms - boot.started_at < kBootingLimitMs) return MachineStatus::booting;
    return MachineStatus::off;
}

std::string_view to_string(MachineStatus status) noexcept {
    switch (status) {
        case MachineStatus::off:
            return "off";
        case MachineStatus::booting:
            return "booting";
        case MachineStatus::booted:
            return "booted";
        case MachineStatus::failed:
            return "failed";
    }
    return "off";
}

std::optional<MachineStatus> parse_machine_status(std::string_view text) noexcept {
    for (const auto status :
         {MachineStatus::off, MachineStatus::booting, MachineStatus::booted, MachineStatus::failed})
        if (to_string(status) == text) return status;
    return std::nullopt;
}

}  // namespace bootherd::boots
