#pragma once
// Who changed what through the management API.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.hpp"

namespace bootherd::db {

struct AuditEntry {
    std::int64_t id = 0;
    std::int64_t at = 0;   // UTC milliseconds
    std::string actor{};   // user name or "cli"
    std::string action{};  // e.g. "node.add", "image.promote"
    std::string target{};  // e.g. "node:pc-01"
    std::string detail{};  // JSON object text
};

// What GET /api/v1/audit asks for; every field is optional.
struct AuditFilter {
    std::optional<std::string> actor{};   // exactly this actor
    std::optional<std::string> action{};  // this action or any under it ("node" matches "node.add")
    std::optional<std::string> target{};  // a substring of the target, case-insensitive
    std::optional<std::int64_t> since{};  // at >= since (UTC milliseconds)
    std::optional<std::int64_t> until{};  // at < until
    std::int64_t limit = 100;             // 1..10000
    std::int64_t offset = 0;
};

struct AuditPage {
    std::vector<AuditEntry> entries{};  // newest first
    std::int64_t total = 0;             // matches before paging
};

// Not thread-safe by itself: obtain it from a Catalog::Session, which holds the catalog lock.
class AuditRepo {
  public:
    explicit AuditRepo(Database& db) : db_(db) {}

    // `entry.id` is ignored and `entry.at` defaults to now when 0; returns the new id.
    std::int64_t append(const AuditEntry& entry);
    // Newest first; pass the smallest id seen as `before_id` for the next page.
    // Deletes at most `limit` (-1: all) of the entries before `before_ms`, oldest first; returns how many.
    std::int64_t prune_older_than(std::int64_t before_ms, std::int64_t limit = -1);
    std::vector<AuditEntry> list(std::int64_t limit = 100,
                                 std::optional<std::int64_t> before_id = std::nullopt);
    AuditPage search(const AuditFilter& filter);

  private:
    Database& db_;
};

}  // namespace bootherd::db
