#include "db/audit_repo.hpp"

#include "db/clock.hpp"
#include "db/error.hpp"

namespace bootherd::db {

std::int64_t AuditRepo::append(const AuditEntry& entry) {
    if (entry.actor.empty()) throw InvalidArgument("actor", "must not be empty");
    if (entry.action.empty()) throw InvalidArgument("action", "must not be empty");
    auto insert = db_.prepare(
        "INSERT INTO audit (at, actor, action, target, detail) "
        "VALUES (?, ?, ?, ?, CASE WHEN json_valid(?5) THEN ?5 END) RETURNING id");
    insert->bind_all(entry.at != 0 ? entry.at : now_ms(), entry.actor, entry.action, entry.target,
                     entry.detail.empty() ? std::string("{}") : entry.detail);
    try {
        return insert->insert_returning_id();
    } catch (const DatabaseError& e) {
        if (e.violation() == Violation::not_null) throw InvalidArgument("detail", "must be valid JSON");
        throw;
    }
}

std::vector<AuditEntry> AuditRepo::list(std::int64_t limit, std::optional<std::int64_t> before_id) {
    if (limit < 1 || limit > 10000) throw InvalidArgument("limit", "must be 1..10000");
    auto query = db_.prepare(
        "SELECT id, at, actor, action, target, detail FROM audit WHERE ?1 IS NULL OR id < ?1 "
        "ORDER BY id DESC LIMIT ?2");
    query->bind_all(before_id, limit);
    std::vector<AuditEntry> entries;
    while (query->step()) {
        entries.push_back(AuditEntry{query->int64(0), query->int64(1), query->text(2), query->text(3),
                                     query->text(4), query->text(5)});
    }
    return entries;
}

AuditPage AuditRepo::search(const AuditFilter& filter) {
    if (filter.limit < 1 || filter.limit > 10000) throw InvalidArgument("limit", "must be 1..10000");
    if (filter.offset < 0) throw InvalidArgument("offset", "must not be negative");
    // Every condition is always present and switched off by a NULL parameter, so one cached statement serves.
    constexpr std::string_view where =
        "WHERE (?1 IS NULL OR actor = ?1) "
        "AND (?2 IS NULL OR action = ?2 OR substr(action, 1, length(?2) + 1) = ?2 || '.') "
        "AND (?3 IS NULL OR instr(lower(target), lower(?3)) > 0) "
        "AND (?4 IS NULL OR at >= ?4) AND (?5 IS NULL OR at < ?5) ";
    AuditPage page;
    auto count = db_.prepare("SELECT count(*) FROM audit " + std::string(where));
    count->bind_all(filter.actor, filter.action, filter.target, filter.since, filter.until);
    if (count->step()) page.total = count->int64(0);
    auto query = db_.prepare("SELECT id, at, actor, action, target, detail FROM audit " + std::string(where) +
                             "ORDER BY id DESC LIMIT ?6 OFFSET ?7");
    query->bind_all(filter.actor, filter.action, filter.target, filter.since, filter.until, filter.limit,
                    filter.offset);
    while (query->step()) {
        page.entries.push_back(AuditEntry{query->int64(0), query->int64(1), query->text(2), query->text(3),
                                          query->text(4), query->text(5)});
    }
    return page;
}

std::int64_t AuditRepo::prune_older_than(std::int64_t before_ms, std::int64_t limit) {
    auto erase =
        db_.prepare("DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < ? ORDER BY id LIMIT ?)");
    erase->bind_all(before_ms, sql_limit(limit));
    erase->run();
    return db_.changes();
}

}  // namespace bootherd::db
