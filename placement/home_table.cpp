#include "placement/home_table.hpp"

namespace bootherd::placement {

void HomeTable::refresh(db::Catalog& catalog, std::int64_t now_ms) {
    auto fresh = std::make_shared<Snapshot>();
    {
        auto session = catalog.session();
        auto query = session.database().prepare(
            "SELECT n.iqn, s.iscsi_portal FROM nodes n JOIN servers s ON s.id = n.home_server_id "
            "WHERE s.id <> ? AND s.heartbeat_at >= ?");
        query->bind_all(settings_.self_id, now_ms - settings_.heartbeat_timeout_ms);
        while (query->step())
            fresh->emplace(query->text(0), query->text(1));
    }
    const std::lock_guard lock(mutex_);
    snapshot_ = std::move(fresh);
}

std::optional<std::string> HomeTable::portal_elsewhere(std::string_view target_iqn) const {
    std::shared_ptr<const Snapshot> snapshot;
    {
        const std::lock_guard lock(mutex_);
        snapshot = snapshot_;
    }
    const auto found = snapshot->find(target_iqn);
    if (found == snapshot->end()) return std::nullopt;
    return found->second;
}

std::optional<std::string> HomeTable::confirmed_portal_elsewhere(db::Catalog& catalog,
                                                                 std::string_view target_iqn,
                                                                 std::int64_t now_ms) {
    auto portal = portal_elsewhere(target_iqn);
    if (!portal) return std::nullopt;
    try {
        std::optional<std::string> current;
        {
            auto session = catalog.session();
            auto query = session.database().prepare(
                "SELECT s.iscsi_portal FROM nodes n JOIN servers s ON s.id = n.home_server_id "
                "WHERE n.iqn = ? AND s.id <> ? AND s.heartbeat_at >= ?");
            query->bind_all(target_iqn, settings_.self_id, now_ms - settings_.heartbeat_timeout_ms);
            if (query->step()) current = query->text(0);
        }
        if (current != portal) note(target_iqn, current);
        return current;
    } catch (const std::exception&) {
        return portal;
    }
}

void HomeTable::note(std::string_view target_iqn, std::optional<std::string> portal) {
    const std::lock_guard lock(mutex_);
    auto changed = std::make_shared<Snapshot>(*snapshot_);
    if (portal)
        changed->insert_or_assign(std::string(target_iqn), std::move(*portal));
    else if (const auto found = changed->find(target_iqn); found != changed->end())
        changed->erase(found);
    snapshot_ = std::move(changed);
}

}  // namespace bootherd::placement
