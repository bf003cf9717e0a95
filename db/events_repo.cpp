#include "db/events_repo.hpp"

#include "db/clock.hpp"
#include "db/error.hpp"
#include "db/identifiers.hpp"

namespace bootherd::db {
namespace {

constexpr std::string_view event_columns = "SELECT id, at, node_id, mac, kind, detail FROM events ";

std::vector<Event> read_events(Statement& query) {
    std::vector<Event> events;
    while (query.step()) {
        events.push_back(Event{query.int64(0), query.int64(1), query.opt_int64(2), query.opt_text(3),
                               query.text(4), query.text(5)});
    }
    return events;
}

void require_limit(std::int64_t limit) {
    if (limit < 1 || limit > 100000) throw InvalidArgument("limit", "must be 1..100000");
}

}  // namespace

std::int64_t EventsRepo::append(const NewEvent& event) {
    if (event.kind.empty()) throw InvalidArgument("kind", "must not be empty");
    std::optional<std::string> mac = event.mac;
    if (mac) {
        if (auto normalized = normalize_mac(*mac)) mac = std::move(normalized);
    }
    auto insert = db_.prepare(
        "INSERT INTO events (at, node_id, mac, kind, detail) "
        "VALUES (?, (SELECT id FROM nodes WHERE id = ?), ?, ?, CASE WHEN json_valid(?5) THEN ?5 END) "
        "RETURNING id");
    insert->bind_all(event.at.value_or(now_ms()), event.node_id, mac, event.kind, event.detail);
    try {
        return insert->insert_returning_id();
    } catch (const DatabaseError& e) {
        if (e.violation() == Violation::not_null) throw InvalidArgument("detail", "must be valid JSON");
        throw;
    }
}

std::vector<Event> EventsRepo::list_since(std::int64_t after_id, std::int64_t limit) {
    require_limit(limit);
    auto query = db_.prepare(std::string(event_columns) + "WHERE id > ? ORDER BY id LIMIT ?");
    query->bind_all(after_id, limit);
    return read_events(*query);
}

std::vector<Event> EventsRepo::list_for_node(std::int64_t node_id, std::int64_t limit) {
    require_limit(limit);
    auto query =
        db_.prepare(std::string(event_columns) + "WHERE node_id = ? ORDER BY at DESC, id DESC LIMIT ?");
    query->bind_all(node_id, limit);
    return read_events(*query);
}

std::vector<Event> EventsRepo::list_recent(std::int64_t limit) {
    require_limit(limit);
    auto query = db_.prepare(std::string(event_columns) + "ORDER BY id DESC LIMIT ?");
    query->bind_all(limit);
    return read_events(*query);
}

std::int64_t EventsRepo::prune_older_than(std::int64_t before_ms, std::int64_t limit) {
    auto erase = db_.prepare(
        "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < ? ORDER BY id LIMIT ?)");
    erase->bind_all(before_ms, sql_limit(limit));
    erase->run();
    return db_.changes();
}

}  // namespace bootherd::db
