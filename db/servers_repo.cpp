#include "db/servers_repo.hpp"

#include "db/error.hpp"

namespace bootherd::db {
namespace {

constexpr std::string_view server_columns =
    "SELECT s.id, s.name, s.iscsi_portal, s.web_url, s.capacity, s.max_booting, s.started_at, "
    "s.heartbeat_at, "
    "s.sessions, s.booting FROM servers s ";

Server read_server(const Statement& row) {
    return Server{.id = row.int64(0),
                  .name = row.text(1),
                  .iscsi_portal = row.text(2),
                  .web_url = row.text(3),
                  .capacity = row.int64(4),
                  .max_booting = row.int64(5),
                  .started_at = row.int64(6),
                  .heartbeat_at = row.int64(7),
                  .sessions = row.int64(8),
                  .booting = row.int64(9)};
}

std::vector<Server> read_servers(CachedStatement query) {
    std::vector<Server> servers;
    while (query->step())
        servers.push_back(read_server(*query));
    return servers;
}

}  // namespace

Server ServersRepo::register_server(const ServerRegistration& registration, std::int64_t now_ms) {
    if (registration.name.empty() || registration.name.size() > 64)
        throw InvalidArgument("name", "a server name must be 1-64 characters");
    if (registration.iscsi_portal.empty()) throw InvalidArgument("iscsi_portal", "a server needs a portal");
    if (registration.capacity < 1) throw InvalidArgument("capacity", "must be at least 1");
    if (registration.max_booting < 0) throw InvalidArgument("max_booting", "must not be negative");
    auto upsert = db_.prepare(
        "INSERT INTO servers (name, iscsi_portal, web_url, capacity, max_booting, started_at, heartbeat_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) "
        "ON CONFLICT (name) DO UPDATE SET iscsi_portal = ?2, web_url = ?3, capacity = ?4, max_booting = ?5, "
        "started_at = ?6, heartbeat_at = ?6, sessions = 0, booting = 0");
    upsert->bind_all(registration.name, registration.iscsi_portal, registration.web_url,
                     registration.capacity, registration.max_booting, now_ms);
    upsert->run();
    return *find_by_name(registration.name);
}

void ServersRepo::heartbeat(std::int64_t id, std::int64_t sessions, std::int64_t booting,
                            std::int64_t now_ms) {
    auto update = db_.prepare("UPDATE servers SET heartbeat_at = ?, sessions = ?, booting = ? WHERE id = ?");
    update->bind_all(now_ms, sessions, booting, id);
    update->run();
    if (db_.changes() == 0) throw NotFound("server " + std::to_string(id) + " is not registered");
}

std::optional<Server> ServersRepo::find(std::int64_t id) {
    auto query = db_.prepare(std::string(server_columns) + "WHERE s.id = ?");
    query->bind_all(id);
    if (!query->step()) return std::nullopt;
    return read_server(*query);
}

std::optional<Server> ServersRepo::find_by_name(std::string_view name) {
    auto query = db_.prepare(std::string(server_columns) + "WHERE s.name = ?");
    query->bind_all(name);
    if (!query->step()) return std::nullopt;
    return read_server(*query);
}

std::vector<Server> ServersRepo::list() {
    return read_servers(db_.prepare(std::string(server_columns) + "ORDER BY s.name"));
}

void ServersRepo::record_verified_copy(std::int64_t server_id, std::int64_t version_id, std::int64_t now_ms) {
    auto version = db_.prepare("SELECT state = 'sealed' AND sha256 IS NOT NULL FROM versions WHERE id = ?");
    version->bind_all(version_id);
    if (!version->step()) throw NotFound("version " + std::to_string(version_id) + " does not exist");
    if (!version->boolean(0))
        throw Conflict("version",
                       "only a sealed version with a recorded SHA-256 can be copied between servers");
    auto insert = db_.prepare(
        "INSERT INTO server_versions (server_id, version_id, verified_at) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (server_id, version_id) DO UPDATE SET verified_at = ?3");
    insert->bind_all(server_id, version_id, now_ms);
    insert->run();
}

void ServersRepo::forget_copy(std::int64_t server_id, std::int64_t version_id) {
    auto remove = db_.prepare("DELETE FROM server_versions WHERE server_id = ? AND version_id = ?");
    remove->bind_all(server_id, version_id);
    remove->run();
}

bool ServersRepo::holds(std::int64_t server_id, std::int64_t version_id) {
    auto query = db_.prepare("SELECT 1 FROM server_versions WHERE server_id = ? AND version_id = ?");
    query->bind_all(server_id, version_id);
    return query->step();
}

std::vector<std::int64_t> ServersRepo::held_versions(std::int64_t server_id) {
    auto query =
        db_.prepare("SELECT version_id FROM server_versions WHERE server_id = ? ORDER BY version_id");
    query->bind_all(server_id);
    std::vector<std::int64_t> ids;
    while (query->step())
        ids.push_back(query->int64(0));
    return ids;
}

std::vector<Server> ServersRepo::holders(std::int64_t version_id) {
    auto query =
        db_.prepare(std::string(server_columns) +
                    "JOIN server_versions c ON c.server_id = s.id WHERE c.version_id = ? ORDER BY s.name");
    query->bind_all(version_id);
    return read_servers(std::move(query));
}

std::vector<HeldCopy> ServersRepo::held_copies() {
    auto query = db_.prepare(
        "SELECT c.server_id, i.name, v.number FROM server_versions c JOIN versions v ON v.id = c.version_id "
        "JOIN images i ON i.id = v.image_id ORDER BY c.server_id, i.name, v.number");
    std::vector<HeldCopy> copies;
    while (query->step())
        copies.push_back({.server_id = query->int64(0), .image = query->text(1), .version = query->int64(2)});
    return copies;
}

std::map<std::int64_t, std::int64_t> ServersRepo::homed_counts() {
    auto query = db_.prepare(
        "SELECT home_server_id, count(*) FROM nodes WHERE home_server_id IS NOT NULL GROUP BY "
        "home_server_id");
    std::map<std::int64_t, std::int64_t> counts;
    while (query->step())
        counts[query->int64(0)] = query->int64(1);
    return counts;
}

}  // namespace bootherd::db
