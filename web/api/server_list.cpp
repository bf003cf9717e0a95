#include "web/api/server_list.hpp"

#include <boost/json.hpp>

#include "db/servers_repo.hpp"

namespace bootherd::web {

boost::json::object servers_json(db::Catalog::Session& session, std::int64_t now_ms,
                                 std::int64_t heartbeat_timeout_ms) {
    auto servers = session.servers();
    const auto homed = servers.homed_counts();
    const auto copies = servers.held_copies();
    boost::json::array items;
    for (const auto& server : servers.list()) {
        boost::json::array versions;
        for (const auto& copy : copies)
            if (copy.server_id == server.id)
                versions.push_back(boost::json::object{{"image", copy.image}, {"version", copy.version}});
        boost::json::value web_url = nullptr;
        if (!server.web_url.empty()) web_url = boost::json::string(server.web_url);
        const auto found = homed.find(server.id);
        items.push_back(boost::json::object{{"name", server.name},
                                            {"iscsi_portal", server.iscsi_portal},
                                            {"web_url", std::move(web_url)},
                                            {"capacity", server.capacity},
                                            {"max_booting", server.max_booting},
                                            {"started_at", server.started_at},
                                            {"heartbeat_at", server.heartbeat_at},
                                            {"live", server.heartbeat_at >= now_ms - heartbeat_timeout_ms},
                                            {"homed", found == homed.end() ? 0 : found->second},
                                            {"sessions", server.sessions},
                                            {"booting", server.booting},
                                            {"versions", std::move(versions)}});
    }
    return {
        {"items", std::move(items)}, {"now", now_ms}, {"heartbeat_timeout_s", heartbeat_timeout_ms / 1000}};
}

}  // namespace bootherd::web
