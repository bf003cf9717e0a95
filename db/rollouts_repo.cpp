#include "db/rollouts_repo.hpp"

#include <array>
#include <utility>

#include "db/error.hpp"

namespace bootherd::db {
namespace {

constexpr std::string_view rollout_select =
    "SELECT r.id, r.image_id, i.name, r.from_version_id, r.to_version_id, r.from_number, r.to_number, "
    "r.state, "
    "r.current_stage, r.created_at, r.updated_at, r.ended_at, r.reason, r.webhook_url, r.created_by "
    "FROM rollouts r JOIN images i ON i.id = r.image_id ";

constexpr std::array<std::string_view, 5> state_names{"running", "paused", "succeeded", "rolled_back",
                                                      "aborted"};

Rollout read_rollout(const Statement& row) {
    Rollout rollout;
    rollout.id = row.int64(0);
    rollout.image_id = row.int64(1);
    rollout.image = row.text(2);
    rollout.from_version_id = row.opt_int64(3);
    rollout.to_version_id = row.opt_int64(4);
    rollout.from_number = row.int64(5);
    rollout.to_number = row.int64(6);
    rollout.state = parse_rollout_state(row.text(7)).value_or(RolloutState::aborted);
    rollout.current_stage = row.int64(8);
    rollout.created_at = row.int64(9);
    rollout.updated_at = row.int64(10);
    rollout.ended_at = row.opt_int64(11);
    rollout.reason = row.text(12);
    rollout.webhook_url = row.text(13);
    rollout.created_by = row.text(14);
    return rollout;
}

bool is_unique_violation(const DatabaseError& e) {
    return e.violation() == Violation::unique;
}

Conflict second_active(std::int64_t image_id) {
    return Conflict("image",
                    "image " + std::to_string(image_id) + " already has a running or paused rollout");
}

}  // namespace

std::string_view to_string(RolloutState state) noexcept {
    return state_names[static_cast<std::size_t>(state)];
}

std::optional<RolloutState> parse_rollout_state(std::string_view text) noexcept {
    for (std::size_t i = 0; i < state_names.size(); ++i)
        if (state_names[i] == text) return static_cast<RolloutState>(i);
    return std::nullopt;
}

bool is_active(RolloutState state) noexcept {
    return state == RolloutState::running || state == RolloutState::paused;
}

std::int64_t RolloutsRepo::insert(const Rollout& rollout) {
    if (rollout.id != 0) throw InvalidArgument("id", "a new rollout has no id yet");
    if (rollout.stages.empty()) throw InvalidArgument("stages", "a rollout needs at least one stage");
    Transaction tx(db_);
    auto insert = db_.prepare(
        "INSERT INTO rollouts (image_id, from_version_id, to_version_id, from_number, to_number, state, "
        "current_stage, created_at, updated_at, ended_at, reason, webhook_url, created_by) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
    insert->bind_all(rollout.image_id, rollout.from_version_id, rollout.to_version_id, rollout.from_number,
                     rollout.to_number, to_string(rollout.state), rollout.current_stage, rollout.created_at,
                     rollout.updated_at, rollout.ended_at, rollout.reason, rollout.webhook_url,
                     rollout.created_by);
    std::int64_t id = 0;
    try {
        id = insert->insert_returning_id();
    } catch (const DatabaseError& e) {
        if (is_unique_violation(e)) throw second_active(rollout.image_id);
        throw;
    }
    for (const auto& stage : rollout.stages) {
        auto add = db_.prepare(
            "INSERT INTO rollout_stages (rollout_id, idx, name, min_ok, max_failures, soak_ms, max_parallel, "
            "hours_from, hours_to, started_at, soaking_since, passed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        add->bind_all(id, stage.index, stage.name, stage.min_ok, stage.max_failures, stage.soak_ms,
                      stage.max_parallel, stage.hours_from, stage.hours_to, stage.started_at,
                      stage.soaking_since, stage.passed_at);
        add->run();
    }
    for (const auto& member : rollout.members) {
        auto add = db_.prepare(
            "INSERT INTO rollout_members (rollout_id, node_id, stage, granted_at) VALUES (?, ?, ?, ?)");
        add->bind_all(id, member.node_id, member.stage, member.granted_at);
        try {
            add->run();
        } catch (const DatabaseError& e) {
            if (e.violation() == Violation::foreign_key)
                throw NotFound("node " + std::to_string(member.node_id) + " not found");
            if (e.violation() == Violation::primary_key)
                throw InvalidArgument(
                    "members", "node " + std::to_string(member.node_id) + " is in more than one stage");
            throw;
        }
    }
    tx.commit();
    return id;
}

std::optional<Rollout> RolloutsRepo::find(std::int64_t id) {
    auto query = db_.prepare(std::string(rollout_select) + "WHERE r.id = ?");
    query->bind_all(id);
    if (!query->step()) return std::nullopt;
    Rollout rollout = read_rollout(*query);
    auto stages = db_.prepare(
        "SELECT idx, name, min_ok, max_failures, soak_ms, max_parallel, hours_from, hours_to, started_at, "
        "soaking_since, passed_at FROM rollout_stages WHERE rollout_id = ? ORDER BY idx");
    stages->bind_all(id);
    while (stages->step())
        rollout.stages.push_back({.index = stages->int64(0),
                                  .name = stages->text(1),
                                  .min_ok = stages->int64(2),
                                  .max_failures = stages->int64(3),
                                  .soak_ms = stages->int64(4),
                                  .max_parallel = stages->int64(5),
                                  .hours_from = stages->opt_int64(6),
                                  .hours_to = stages->opt_int64(7),
                                  .started_at = stages->opt_int64(8),
                                  .soaking_since = stages->opt_int64(9),
                                  .passed_at = stages->opt_int64(10)});
    auto members = db_.prepare(
        "SELECT m.node_id, n.name, m.stage, m.granted_at FROM rollout_members m JOIN nodes n ON n.id = "
        "m.node_id "
        "WHERE m.rollout_id = ? ORDER BY m.stage, n.name");
    members->bind_all(id);
    while (members->step())
        rollout.members.push_back({.node_id = members->int64(0),
                                   .node_name = members->text(1),
                                   .stage = members->int64(2),
                                   .granted_at = members->opt_int64(3)});
    return rollout;
}

Rollout RolloutsRepo::get(std::int64_t id) {
    auto rollout = find(id);
    if (!rollout) throw NotFound("rollout " + std::to_string(id) + " not found");
    return std::move(*rollout);
}

std::vector<Rollout> RolloutsRepo::list(std::optional<std::int64_t> image_id, std::int64_t limit) {
    if (limit < 1 || limit > 1000) throw InvalidArgument("limit", "must be 1..1000");
    auto query =
        db_.prepare("SELECT id FROM rollouts WHERE (?1 IS NULL OR image_id = ?1) ORDER BY id DESC LIMIT ?2");
    query->bind_all(image_id, limit);
    std::vector<std::int64_t> ids;
    while (query->step())
        ids.push_back(query->int64(0));
    std::vector<Rollout> rollouts;
    for (const auto id : ids)
        if (auto rollout = find(id)) rollouts.push_back(std::move(*rollout));
    return rollouts;
}

std::optional<Rollout> RolloutsRepo::active_for_image(std::int64_t image_id) {
    auto query =
        db_.prepare("SELECT id FROM rollouts WHERE image_id = ? AND state IN ('running', 'paused') LIMIT 1");
    query->bind_all(image_id);
    if (!query->step()) return std::nullopt;
    const std::int64_t id = query->int64(0);
    query->reset();
    return find(id);
}

std::vector<Rollout> RolloutsRepo::active() {
    auto query = db_.prepare("SELECT id FROM rollouts WHERE state IN ('running', 'paused') ORDER BY id");
    std::vector<std::int64_t> ids;
    while (query->step())
        ids.push_back(query->int64(0));
    query->reset();
    std::vector<Rollout> rollouts;
    for (const auto id : ids)
        if (auto rollout = find(id)) rollouts.push_back(std::move(*rollout));
    return rollouts;
}

std::vector<std::pair<RolloutState, std::int64_t>> RolloutsRepo::count_by_state() {
    auto query = db_.prepare("SELECT state, count(*) FROM rollouts GROUP BY state ORDER BY state");
    std::vector<std::pair<RolloutState, std::int64_t>> counts;
    while (query->step())
        if (const auto state = parse_rollout_state(query->text(0)))
            counts.emplace_back(*state, query->int64(1));
    return counts;
}

void RolloutsRepo::update(const Rollout& rollout) {
    auto update = db_.prepare(
        "UPDATE rollouts SET state = ?, current_stage = ?, updated_at = ?, ended_at = ?, reason = ? WHERE id "
        "= ?");
    update->bind_all(to_string(rollout.state), rollout.current_stage, rollout.updated_at, rollout.ended_at,
                     rollout.reason, rollout.id);
    try {
        update->run();
    } catch (const DatabaseError& e) {
        if (is_unique_violation(e)) throw second_active(rollout.image_id);
        throw;
    }
    if (db_.changes() == 0) throw NotFound("rollout " + std::to_string(rollout.id) + " not found");
}

void RolloutsRepo::update_stage(std::int64_t rollout_id, const RolloutStage& stage) {
    auto update = db_.prepare(
        "UPDATE rollout_stages SET started_at = ?, soaking_since = ?, passed_at = ? WHERE rollout_id = ? AND "
        "idx = ?");
    update->bind_all(stage.started_at, stage.soaking_since, stage.passed_at, rollout_id, stage.index);
    update->run();
    if (db_.changes() == 0)
        throw NotFound("stage " + std::to_string(stage.index) + " of rollout " + std::to_string(rollout_id) +
                       " not found");
}

void RolloutsRepo::grant(std::int64_t rollout_id, std::int64_t node_id, std::int64_t at) {
    auto update =
        db_.prepare("UPDATE rollout_members SET granted_at = ? WHERE rollout_id = ? AND node_id = ?");
    update->bind_all(at, rollout_id, node_id);
    update->run();
}

void RolloutsRepo::clear_grants(std::int64_t rollout_id, std::int64_t from_stage) {
    auto update =
        db_.prepare("UPDATE rollout_members SET granted_at = NULL WHERE rollout_id = ? AND stage >= ?");
    update->bind_all(rollout_id, from_stage);
    update->run();
}

std::int64_t RolloutsRepo::append_event(std::int64_t rollout_id, std::int64_t at, std::string_view kind,
                                        std::string_view detail_json) {
    auto insert = db_.prepare(
        "INSERT INTO rollout_events (rollout_id, at, kind, detail) VALUES (?, ?, ?, ?) RETURNING id");
    insert->bind_all(rollout_id, at, kind, detail_json);
    return insert->insert_returning_id();
}

std::vector<RolloutEvent> RolloutsRepo::events(std::int64_t rollout_id) {
    auto query =
        db_.prepare("SELECT id, at, kind, detail FROM rollout_events WHERE rollout_id = ? ORDER BY id");
    query->bind_all(rollout_id);
    std::vector<RolloutEvent> events;
    while (query->step())
        events.push_back({query->int64(0), query->int64(1), query->text(2), query->text(3)});
    return events;
}

}  // namespace bootherd::db
