#include "boots/boot_outcome.hpp"

namespace bootherd::boots {
namespace {

bool running(const db::Boot& boot) {
    return boot.outcome == db::BootOutcome::running;
}

void end(db::Boot& boot, db::BootOutcome outcome, std::string reason, std::int64_t at) {
    boot.outcome = outcome;
    boot.reason = std::move(reason);
    boot.ended_at = at;
}

// Sets a step the first time only.
bool first(std::optional<std::int64_t>& step, std::int64_t at) {
    if (step) return false;
    step = at;
    return true;
}

bool fresh_pending(const std::optional<std::int64_t>& pending, std::int64_t at, const Thresholds& t) {
    return pending && at - *pending <= t.pending_expiry_ms;
}

db::Boot start(NodeBoots& node, std::int64_t at, const db::Boot& fresh, const Thresholds& t) {
    db::Boot boot;
    boot.node_id = fresh.node_id;
    boot.mac = fresh.mac;
    boot.version_id = fresh.version_id;
    if (fresh_pending(node.pending_dhcp, at, t)) boot.dhcp_at = node.pending_dhcp;
    if (fresh_pending(node.pending_tftp, at, t)) boot.tftp_at = node.pending_tftp;
    boot.started_at = boot.dhcp_at.value_or(boot.tftp_at.value_or(at));
    boot.script_at = at;
    node.pending_dhcp.reset();
    node.pending_tftp.reset();
    return boot;
}

// OK once the OS logged in and reported health ok.
bool ok_by_health(db::Boot& boot, std::int64_t at) {
    if (!running(boot) || !boot.os_login_at || !boot.health_at) return false;
    end(boot, db::BootOutcome::ok, "health_ok", at);
    return true;
}

}  // namespace

bool expire(db::Boot& boot, std::int64_t now, const Thresholds& t) {
    if (!running(boot)) return false;
    if (boot.os_login_at) {
        if (now < *boot.os_login_at + t.ok_window_ms) return false;
        end(boot, db::BootOutcome::ok, "stayed_up", *boot.os_login_at + t.ok_window_ms);
        return true;
    }
    if (now < boot.started_at + t.os_login_timeout_ms) return false;
    end(boot, db::BootOutcome::failed, "no_os_login", boot.started_at + t.os_login_timeout_ms);
    return true;
}

Transition apply(NodeBoots& node, Signal signal, std::int64_t at, const db::Boot& fresh,
                 const Thresholds& t) {
    Transition result;
    if (node.latest && expire(*node.latest, at, t)) result.latest_changed = result.latest_ended = true;
    // The running boot, if any (every boot starts at its script, so it is past it).
    db::Boot* current = node.latest && running(*node.latest) ? &*node.latest : nullptr;

    switch (signal) {
        case Signal::pxe_dhcp:
            if (current) {  // the machine started over before its boot was ok
                end(*current, db::BootOutcome::failed, "reboot_loop", at);
                result.latest_changed = result.latest_ended = true;
            }
            if (!fresh_pending(node.pending_dhcp, at, t)) {
                node.pending_dhcp = at;
                node.pending_tftp.reset();
            }
            return result;
        case Signal::tftp:
            if (fresh_pending(node.pending_dhcp, at, t)) first(node.pending_tftp, at);
            return result;
        case Signal::script:
            if (current) {
                end(*current, db::BootOutcome::failed, "reboot_loop", at);
                result.ended = *current;
            } else if (result.latest_changed) {
                result.ended = *node.latest;  // expired just now, before this new boot
            }
            node.latest = start(node, at, fresh, t);
            result.latest_changed = true;
            result.latest_ended = false;
            return result;
        case Signal::firmware_login:
            if (!current) return result;
            // A second firmware login is the OS's: the event log counts anew after a server restart.
            if (first(current->firmware_login_at, at) || first(current->os_login_at, at))
                result.latest_changed = true;
            result.latest_ended = ok_by_health(*current, at);
            return result;
        case Signal::first_read:
            if (current && first(current->first_read_at, at)) result.latest_changed = true;
            return result;
        case Signal::os_login:
            if (!current) return result;
            if (first(current->os_login_at, at)) result.latest_changed = true;
            result.latest_ended = ok_by_health(*current, at);
            return result;
    }
    return result;
}

Transition report_health(NodeBoots& node, Health health, std::string message, std::int64_t at,
                         const Thresholds& t) {
    Transition result;
    if (!node.latest) return result;
    if (expire(*node.latest, at, t)) result.latest_changed = result.latest_ended = true;
    db::Boot& boot = *node.latest;
    if (!running(boot)) return result;
    boot.health_at = at;
    boot.message = std::move(message);
    result.accepted = result.latest_changed = true;
    if (health == Health::failed) {
        end(boot, db::BootOutcome::failed, "health_failed", at);
        result.latest_ended = true;
    } else {
        result.latest_ended = ok_by_health(boot, at);
    }
    return result;
}

}  // namespace bootherd::boots
