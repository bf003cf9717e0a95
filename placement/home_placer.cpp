#include "placement/home_placer.hpp"

#include <vector>

#include "placement/least_loaded.hpp"

namespace bootherd::placement {
namespace {

// Per server: ?1 version, ?2 heartbeats since, ?3 placements since (the booting window).
constexpr std::string_view loads_query = R"sql(
SELECT s.id, s.capacity, s.max_booting, s.heartbeat_at >= ?2,
       EXISTS (SELECT 1 FROM server_versions c WHERE c.server_id = s.id AND c.version_id = ?1),
       (SELECT count(*) FROM nodes n WHERE n.home_server_id = s.id
            AND (n.state = 'online' OR n.home_placed_at >= ?3)),
       (SELECT count(*) FROM nodes n WHERE n.home_server_id = s.id
            AND n.state <> 'online' AND n.home_placed_at >= ?3)
FROM servers s ORDER BY s.id
)sql";

std::vector<ServerLoad> loads(db::sqlite::Database& db, std::int64_t version_id, std::int64_t alive_since,
                              std::int64_t booting_since) {
    auto query = db.prepare(loads_query);
    query->bind_all(version_id, alive_since, booting_since);
    std::vector<ServerLoad> servers;
    while (query->step()) {
        servers.push_back({.server_id = query->int64(0),
                           .capacity = query->int64(1),
                           .max_booting = query->int64(2),
                           .active = query->int64(5),
                           .booting = query->int64(6),
                           .alive = query->boolean(3),
                           .holds_version = query->boolean(4)});
    }
    return servers;
}

}  // namespace

std::optional<Placement> HomePlacer::place(std::int64_t node_id, std::int64_t version_id,
                                           std::int64_t now_ms) {
    auto session = catalog_.session();
    db::sqlite::Transaction transaction(session.database());
    const db::Node node = session.nodes().get(node_id);
    if (node.effective_persistent && node.home_server_id) {
        // Placed again so that it counts as booting there.
        session.nodes().set_home_server(node_id, node.home_server_id, now_ms);
        transaction.commit();
        return Placement{.server_id = *node.home_server_id, .moved = false};
    }
    auto servers = loads(session.database(), version_id, now_ms - settings_.heartbeat_timeout_ms,
                         now_ms - settings_.booting_window_ms);
    // The machine's own earlier placement is not load it adds (the same rules as the query's).
    const bool recently_placed =
        node.home_placed_at && *node.home_placed_at >= now_ms - settings_.booting_window_ms;
    const bool online = node.state == "online";
    for (auto& server : servers) {
        if (node.home_server_id != server.server_id) continue;
        if (online || recently_placed) server.active -= 1;
        if (!online && recently_placed) server.booting -= 1;
    }
    const auto chosen = least_loaded(servers);
    if (!chosen) return std::nullopt;
    session.nodes().set_home_server(node_id, *chosen, now_ms);
    transaction.commit();
    return Placement{.server_id = *chosen, .moved = node.home_server_id != chosen};
}

}  // namespace bootherd::placement
