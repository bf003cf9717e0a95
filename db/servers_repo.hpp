#pragma once
// The serving processes that share this catalog (see docs/SCALE-OUT.md): each registers under its name at
// start, then heartbeats its load; the copies of sealed versions each one holds, verified against the
// version's SHA-256.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "db/database.hpp"

namespace bootherd::db {

struct Server {
    std::int64_t id = 0;
    std::string name{};
    std::string iscsi_portal{};    // "ip:port" (IPv6 in brackets) machines are sent to
    std::string web_url{};         // where other servers pull versions from; empty: nowhere
    std::int64_t capacity = 1;     // placement weight
    std::int64_t max_booting = 0;  // machines booting at once it accepts (0: no cap)
    std::int64_t started_at = 0;
    std::int64_t heartbeat_at = 0;
    std::int64_t sessions = 0;  // load at the last heartbeat
    std::int64_t booting = 0;
};

// A verified copy a server holds, by the image's name and the version's number.
struct HeldCopy {
    std::int64_t server_id = 0;
    std::string image{};
    std::int64_t version = 0;
};

struct ServerRegistration {
    std::string name{};
    std::string iscsi_portal{};
    std::string web_url{};
    std::int64_t capacity = 100;
    std::int64_t max_booting = 0;
};

// Not thread-safe by itself: obtain it from a Catalog::Session, which holds the catalog lock.
class ServersRepo {
  public:
    explicit ServersRepo(Database& db) : db_(db) {}

    // Inserts the server, or updates the one of that name (a restart keeps its id, its homed machines and
    // its copies); its heartbeat is `now_ms`. InvalidArgument for an empty name or portal, capacity < 1.
    Server register_server(const ServerRegistration& registration, std::int64_t now_ms);
    // Records a heartbeat with the server's current load. NotFound for an unknown id.
    void heartbeat(std::int64_t id, std::int64_t sessions, std::int64_t booting, std::int64_t now_ms);
    std::optional<Server> find(std::int64_t id);
    std::optional<Server> find_by_name(std::string_view name);
    // Every server, by name.
    std::vector<Server> list();

    // The server holds a copy of the sealed version whose SHA-256 it checked.
    void record_verified_copy(std::int64_t server_id, std::int64_t version_id, std::int64_t now_ms);
    void forget_copy(std::int64_t server_id, std::int64_t version_id);
    bool holds(std::int64_t server_id, std::int64_t version_id);
    // The ids of the versions the server holds verified copies of.
    std::vector<std::int64_t> held_versions(std::int64_t server_id);
    // The servers holding a verified copy of the version, by name.
    std::vector<Server> holders(std::int64_t version_id);
    // Every verified copy of every server, by server id, image name and version number.
    std::vector<HeldCopy> held_copies();
    // How many machines each server homes, by server id (servers homing none are absent).
    std::map<std::int64_t, std::int64_t> homed_counts();

  private:
    Database& db_;
};

}  // namespace bootherd::db
