#include "tools/bootherd/session_presence.hpp"

#include "boots/machine_status.hpp"
#include "imagestore/store/catalog_targets.hpp"

namespace bootherd::cli {

SessionPresence::SessionPresence(const std::vector<iscsi::SessionInfo>& sessions) {
    for (const auto& session : sessions) {
        targets_.insert(session.target_iqn);
        initiators_.insert(session.initiator_name);
    }
}

bool SessionPresence::has_session(const db::Node& node) const {
    return targets_.contains(node.iqn) || initiators_.contains(imagestore::store::node_initiator_iqn(node));
}

void SessionPresence::record(db::Catalog::Session& session, const db::Node& node) const {
    const auto state = has_session(node) ? boots::kSessionOnline : boots::kSessionOffline;
    if (node.state != state) session.nodes().set_state(node.id, state);
}

void SessionPresence::record_all(db::Catalog::Session& session) const {
    constexpr std::int64_t page = 10000;
    std::vector<std::int64_t> online;
    for (std::int64_t offset = 0;; offset += page) {
        const auto found = session.nodes().list({.limit = page, .offset = offset}).nodes;
        for (const auto& node : found)
            if (has_session(node)) online.push_back(node.id);
        if (static_cast<std::int64_t>(found.size()) < page) break;
    }
    db::Transaction transaction(session.database());
    session.nodes().set_every_state(boots::kSessionOffline);
    for (const auto id : online)
        session.nodes().set_state(id, boots::kSessionOnline);
    transaction.commit();
}

void record_all_offline(db::Catalog::Session& session) {
    session.nodes().set_every_state(boots::kSessionOffline);
}

}  // namespace bootherd::cli
