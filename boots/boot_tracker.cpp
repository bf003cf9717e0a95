#include "boots/boot_tracker.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "common/log.hpp"

namespace bootherd::boots {

BootTracker::BootTracker(db::Catalog& catalog, Thresholds thresholds)
    : catalog_(catalog), thresholds_(thresholds) {}

NodeBoots BootTracker::load(db::Catalog::Session& session, std::int64_t node_id) {
    NodeBoots node{.latest = session.boots().latest_for_node(node_id)};
    if (const auto found = pending_.find(node_id); found != pending_.end()) {
        node.pending_dhcp = found->second.dhcp;
        node.pending_tftp = found->second.tftp;
    }
    return node;
}

void BootTracker::store(db::Catalog::Session& session, NodeBoots& node, const Transition& transition) {
    auto boots = session.boots();
    if (transition.ended) {
        boots.update(*transition.ended);
        ended(session, transition.ended->id);
    }
    if (node.latest && transition.latest_changed) {
        if (node.latest->id == 0)
            node.latest->id = boots.insert(*node.latest);
        else
            boots.update(*node.latest);
        if (transition.latest_ended) ended(session, node.latest->id);
    }
}

void BootTracker::ended(db::Catalog::Session& session, std::int64_t boot_id) {
    const auto boot = session.boots().find(boot_id);
    if (!boot || !boot->ended_at) return;
    stats_.record(*boot);
    const boost::json::object detail{
        {"boot", boot->id}, {"reason", boot->reason}, {"message", boot->message}};
    session.events().append(db::NewEvent{.kind = "boot." + std::string(db::to_string(boot->outcome)),
                                         .node_id = boot->node_id,
                                         .mac = boot->mac,
                                         .detail = boost::json::serialize(detail),
                                         .at = boot->ended_at});
    log::info("boot: ", boot->node_name, " boot ", boot->id, " ", db::to_string(boot->outcome), " (",
              boot->reason, ")");
}

void BootTracker::on_step(std::int64_t node_id, Signal signal, std::int64_t at_ms) {
    const std::lock_guard lock(mutex_);
    auto session = catalog_.session();
    const auto found = session.nodes().find(node_id);
    if (!found) {
        pending_.erase(node_id);
        return;
    }
    // A maintenance machine boots its image's draft, not its own disk.
    const auto draft = session.versions().maintained_by(node_id);
    const db::Boot fresh{.node_id = node_id,
                         .mac = found->mac,
                         .version_id = draft ? std::optional(draft->id) : found->disk_version_id};
    NodeBoots node = load(session, node_id);
    const auto transition = apply(node, signal, at_ms, fresh, thresholds_);
    store(session, node, transition);
    if (node.pending_dhcp || node.pending_tftp)
        pending_[node_id] = Pending{node.pending_dhcp, node.pending_tftp};
    else
        pending_.erase(node_id);
}

bool BootTracker::report_health(std::int64_t node_id, Health health, std::string message,
                                std::int64_t at_ms) {
    const std::lock_guard lock(mutex_);
    auto session = catalog_.session();
    NodeBoots node = load(session, node_id);
    const std::string state = health == Health::ok ? "ok" : "failed";
    const boost::json::object detail{{"state", state}, {"message", message}};
    const auto transition = boots::report_health(node, health, std::move(message), at_ms, thresholds_);
    if (transition.accepted)
        session.events().append(db::NewEvent{.kind = "boot.health",
                                             .node_id = node_id,
                                             .mac = node.latest->mac,
                                             .detail = boost::json::serialize(detail),
                                             .at = at_ms});
    store(session, node, transition);
    return transition.accepted;
}

void BootTracker::tick(std::int64_t now_ms) {
    const std::lock_guard lock(mutex_);
    auto session = catalog_.session();
    for (auto& boot : session.boots().running()) {
        if (!expire(boot, now_ms, thresholds_)) continue;
        session.boots().update(boot);
        ended(session, boot.id);
    }
    std::erase_if(pending_, [&](const auto& entry) {
        const auto& [dhcp, tftp] = entry.second;
        return now_ms - dhcp.value_or(tftp.value_or(0)) > thresholds_.pending_expiry_ms;
    });
}

}  // namespace bootherd::boots
