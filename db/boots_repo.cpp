#include "db/boots_repo.hpp"

#include "db/error.hpp"

namespace bootherd::db {
namespace {

constexpr std::string_view boot_select =
    "SELECT b.id, b.node_id, b.mac, b.version_id, b.started_at, b.dhcp_at, b.tftp_at, b.script_at, "
    "b.firmware_login_at, b.first_read_at, b.os_login_at, b.health_at, b.ended_at, b.outcome, b.reason, "
    "b.message, n.name, i.name, v.number, v.state "
    "FROM boots b JOIN nodes n ON n.id = b.node_id LEFT JOIN versions v ON v.id = b.version_id "
    "LEFT JOIN images i ON i.id = v.image_id ";

Boot read_boot(const Statement& row) {
    Boot boot;
    boot.id = row.int64(0);
    boot.node_id = row.int64(1);
    boot.mac = row.text(2);
    boot.version_id = row.opt_int64(3);
    boot.started_at = row.int64(4);
    boot.dhcp_at = row.opt_int64(5);
    boot.tftp_at = row.opt_int64(6);
    boot.script_at = row.opt_int64(7);
    boot.firmware_login_at = row.opt_int64(8);
    boot.first_read_at = row.opt_int64(9);
    boot.os_login_at = row.opt_int64(10);
    boot.health_at = row.opt_int64(11);
    boot.ended_at = row.opt_int64(12);
    boot.outcome = parse_boot_outcome(row.text(13)).value_or(BootOutcome::failed);
    boot.reason = row.text(14);
    boot.message = row.text(15);
    boot.node_name = row.text(16);
    boot.image = row.opt_text(17);
    boot.version = row.opt_int64(18);
    boot.draft = row.opt_text(19) == "draft";
    return boot;
}

std::vector<Boot> read_boots(Statement& query) {
    std::vector<Boot> boots;
    while (query.step())
        boots.push_back(read_boot(query));
    return boots;
}

void check_ended(const Boot& boot) {
    if ((boot.outcome == BootOutcome::running) != !boot.ended_at)
        throw InvalidArgument("ended_at", "must be set exactly when the boot has ended");
}

}  // namespace

std::string_view to_string(BootOutcome outcome) noexcept {
    switch (outcome) {
        case BootOutcome::running:
            return "running";
        case BootOutcome::ok:
            return "ok";
        case BootOutcome::failed:
            return "failed";
    }
    return "failed";
}

std::optional<BootOutcome> parse_boot_outcome(std::string_view text) noexcept {
    if (text == "running") return BootOutcome::running;
    if (text == "ok") return BootOutcome::ok;
    if (text == "failed") return BootOutcome::failed;
    return std::nullopt;
}

std::int64_t BootsRepo::insert(const Boot& boot) {
    if (boot.id != 0) throw InvalidArgument("id", "a new boot has no id yet");
    check_ended(boot);
    Transaction tx(db_);
    auto insert = db_.prepare(
        "INSERT INTO boots (node_id, mac, version_id, started_at, dhcp_at, tftp_at, script_at, "
        "firmware_login_at, first_read_at, os_login_at, health_at, ended_at, outcome, reason, message) "
        "VALUES (?, ?, (SELECT id FROM versions WHERE id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING "
        "id");
    insert->bind_all(boot.node_id, boot.mac, boot.version_id, boot.started_at, boot.dhcp_at, boot.tftp_at,
                     boot.script_at, boot.firmware_login_at, boot.first_read_at, boot.os_login_at,
                     boot.health_at, boot.ended_at, to_string(boot.outcome), boot.reason, boot.message);
    std::int64_t id = 0;
    try {
        id = insert->insert_returning_id();
    } catch (const DatabaseError& e) {
        if (e.violation() == Violation::foreign_key)
            throw NotFound("node " + std::to_string(boot.node_id) + " not found");
        throw;
    }
    auto prune = db_.prepare(
        "DELETE FROM boots WHERE node_id = ?1 AND id NOT IN "
        "(SELECT id FROM boots WHERE node_id = ?1 ORDER BY id DESC LIMIT ?2)");
    prune->bind_all(boot.node_id, kept_per_node);
    prune->run();
    tx.commit();
    return id;
}

void BootsRepo::update(const Boot& boot) {
    check_ended(boot);
    auto update = db_.prepare(
        "UPDATE boots SET dhcp_at = ?, tftp_at = ?, script_at = ?, firmware_login_at = ?, first_read_at = ?, "
        "os_login_at = ?, health_at = ?, ended_at = ?, outcome = ?, reason = ?, message = ? WHERE id = ?");
    update->bind_all(boot.dhcp_at, boot.tftp_at, boot.script_at, boot.firmware_login_at, boot.first_read_at,
                     boot.os_login_at, boot.health_at, boot.ended_at, to_string(boot.outcome), boot.reason,
                     boot.message, boot.id);
    update->run();
    if (db_.changes() == 0) throw NotFound("boot " + std::to_string(boot.id) + " not found");
}

std::optional<Boot> BootsRepo::find(std::int64_t id) {
    auto query = db_.prepare(std::string(boot_select) + "WHERE b.id = ?");
    query->bind_all(id);
    if (!query->step()) return std::nullopt;
    return read_boot(*query);
}

std::optional<Boot> BootsRepo::latest_for_node(std::int64_t node_id) {
    auto query = db_.prepare(std::string(boot_select) + "WHERE b.node_id = ? ORDER BY b.id DESC LIMIT 1");
    query->bind_all(node_id);
    if (!query->step()) return std::nullopt;
    return read_boot(*query);
}

std::map<std::int64_t, Boot> BootsRepo::latest_by_node() {
    auto query =
        db_.prepare(std::string(boot_select) + "WHERE b.id IN (SELECT MAX(id) FROM boots GROUP BY node_id)");
    std::map<std::int64_t, Boot> latest;
    while (query->step()) {
        auto boot = read_boot(*query);
        latest.emplace(boot.node_id, std::move(boot));
    }
    return latest;
}

std::vector<Boot> BootsRepo::running() {
    auto query = db_.prepare(std::string(boot_select) + "WHERE b.outcome = 'running' ORDER BY b.id");
    return read_boots(*query);
}

std::int64_t BootsRepo::prune_ended_before(std::int64_t before_ms, std::int64_t limit) {
    auto erase = db_.prepare(
        "DELETE FROM boots WHERE id IN (SELECT id FROM boots WHERE outcome != 'running' AND ended_at < ? "
        "ORDER BY id LIMIT ?)");
    erase->bind_all(before_ms, sql_limit(limit));
    erase->run();
    return db_.changes();
}

std::vector<Boot> BootsRepo::of_version_since(std::int64_t version_id, std::int64_t since_ms) {
    auto query =
        db_.prepare(std::string(boot_select) + "WHERE b.version_id = ? AND b.started_at >= ? ORDER BY b.id");
    query->bind_all(version_id, since_ms);
    return read_boots(*query);
}

BootPage BootsRepo::list(const BootFilter& filter) {
    if (filter.limit < 1 || filter.limit > 1000) throw InvalidArgument("limit", "must be 1..1000");
    if (filter.offset < 0) throw InvalidArgument("offset", "must not be negative");
    const std::string where =
        "WHERE (?1 IS NULL OR b.node_id = ?1) AND (?2 IS NULL OR b.outcome = ?2) "
        "AND (?3 IS NULL OR i.name = ?3 COLLATE NOCASE) AND (?4 IS NULL OR v.number = ?4) ";
    const std::optional<std::string> outcome =
        filter.outcome ? std::optional(std::string(to_string(*filter.outcome))) : std::nullopt;
    BootPage page;
    auto query = db_.prepare(std::string(boot_select) + where + "ORDER BY b.id DESC LIMIT ?5 OFFSET ?6");
    query->bind_all(filter.node_id, outcome, filter.image, filter.version, filter.limit, filter.offset);
    page.boots = read_boots(*query);
    auto count = db_.prepare(
        "SELECT count(*) FROM boots b LEFT JOIN versions v ON v.id = b.version_id "
        "LEFT JOIN images i ON i.id = v.image_id " +
        where);
    count->bind_all(filter.node_id, outcome, filter.image, filter.version);
    count->step();
    page.total = count->int64(0);
    return page;
}

std::vector<VersionBootCounts> BootsRepo::outcomes_by_version() {
    auto query = db_.prepare(
        "SELECT i.name, v.number, sum(CASE WHEN b.outcome = 'running' THEN 1 ELSE 0 END), "
        "sum(CASE WHEN b.outcome = 'ok' THEN 1 ELSE 0 END), sum(CASE WHEN b.outcome = 'failed' THEN 1 ELSE 0 "
        "END) "
        "FROM boots b LEFT JOIN versions v ON v.id = b.version_id LEFT JOIN images i ON i.id = v.image_id "
        "GROUP BY i.name, v.number ORDER BY i.name, v.number");
    std::vector<VersionBootCounts> counts;
    while (query->step())
        counts.push_back(
            {query->opt_text(0), query->opt_int64(1), query->int64(2), query->int64(3), query->int64(4)});
    return counts;
}

std::optional<std::int64_t> BootsRepo::node_at_boot_address(std::string_view address) {
    auto query = db_.prepare(
        "SELECT id FROM nodes WHERE boot_address = ? ORDER BY boot_address_at DESC, id DESC LIMIT 1");
    query->bind_all(address);
    if (!query->step()) return std::nullopt;
    return query->int64(0);
}

}  // namespace bootherd::db
