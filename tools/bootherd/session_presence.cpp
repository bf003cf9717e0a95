#include "tools/bootherd/session_presence.hpp"

#include "boots/machine_status.hpp"
#include "imagestore/store/catalog_targets.hpp"

namespace bootherd::cli {

SessionPresence::SessionPresence(const std::vector<iscsi::SessionInfo>& sessions,
                                 std::optional<std::int64_t> home_server)
    : home_server_(home_server) {
    for (const auto& session : sessions) {
        targets_.insert(session.target_iqn);
        initiators_.insert(session.initiator_name);
    }
}

bool SessionPresence::has_session(const db::Node& node) const {
    return targets_.contains(node.iqn) || initiators_.contains(imagestore::store::node_initiator_iqn(node));
}

bool SessionPresence::in_scope(const db::Node& node) const {
    return !home_server_ || !node.home_server_id || node.home_server_id == home_server_;
}

void SessionPresence::record(db::Catalog::Session& session, const db::Node& node) const {
    if (!in_scope(node)) return;
    const auto state = has_session(node) ? boots::kSessionOnline : boots::kSessionOffline;
    if (node.state != state) session.nodes().set_state(node.id, state);
}

void SessionPresence::record_all(db::Catalog::Session& session) const {
    constexpr std::int64_t page = 10000;
    std::vector<std::int64_t> online;
    for (std::int64_t offset = 0;; offset += page) {
        const auto found = session.nodes().list({.limit = page, .offset = offset}).nodes;
        for (const auto& node : found)
            if (in_scope(node) && has_session(node)) online.push_back(node.id);
        if (static_cast<std::int64_t>(found.size()) < page) break;
    }
    db::sqlite::Transaction transaction(session.database());
    session.nodes().set_every_state(boots::kSessionOffline, home_server_);
    for (const auto id : online)
        session.nodes().set_state(id, boots::kSessionOnline);
    transaction.commit();
}

void record_all_offline(db::Catalog::Session& session, std::optional<std::int64_t> home_server) {
    session.nodes().set_every_state(boots::kSessionOffline, home_server);
}

}  // namespace bootherd::cli
