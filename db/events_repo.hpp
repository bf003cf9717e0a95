#pragma once
// The boot event log: DHCP, TFTP, script fetches, iSCSI logins, image operations and audit entries.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.hpp"

namespace bootherd::db {

struct Event {
    std::int64_t id = 0;
    std::int64_t at = 0;  // UTC milliseconds
    std::optional<std::int64_t> node_id{};
    std::optional<std::string> mac{};
    std::string kind{};    // e.g. "dhcp.discover", "iscsi.login.os", "audit.node.add"
    std::string detail{};  // JSON object text
};

struct NewEvent {
    std::string kind{};
    std::optional<std::int64_t> node_id{};
    std::optional<std::string> mac{};  // normalised when it parses, stored as given otherwise
    std::string detail = "{}";
    std::optional<std::int64_t> at{};  // defaults to now
};

// Not thread-safe by itself: obtain it from a Catalog::Session, which holds the catalog lock.
class EventsRepo {
  public:
    explicit EventsRepo(Database& db) : db_(db) {}

    // One cached INSERT; returns the new id. `detail` must be valid JSON; a node_id that no longer exists is
    // stored as NULL (the MAC still identifies the machine).
    std::int64_t append(const NewEvent& event);
    // Events after `after_id` in id order, at most `limit` (for live streaming: pass the last id seen).
    std::vector<Event> list_since(std::int64_t after_id, std::int64_t limit = 1000);
    // A node's events, newest first.
    std::vector<Event> list_for_node(std::int64_t node_id, std::int64_t limit = 100);
    // The newest events across all nodes, newest first.
    std::vector<Event> list_recent(std::int64_t limit = 100);
    // Deletes at most `limit` (-1: all) of the events before `before_ms`, oldest first; returns how many.
    std::int64_t prune_older_than(std::int64_t before_ms, std::int64_t limit = -1);

  private:
    Database& db_;
};

}  // namespace bootherd::db
