#include "db/nodes_repo.hpp"

#include <arpa/inet.h>

#include <array>

#include "db/clock.hpp"
#include "db/credentials.hpp"
#include "db/error.hpp"
#include "db/identifiers.hpp"
#include "db/nodes_internal.hpp"

namespace bootherd::db {
namespace {

constexpr std::string_view node_columns =
    "SELECT n.id, n.name, n.mac, n.group_id, n.image_id, n.persistent, n.enabled, n.iqn, n.chap_user, "
    "n.chap_secret, n.fixed_ip, n.created_at, n.disk_version_id, n.disk_path, n.last_boot_at, n.state, "
    "coalesce(n.image_id, g.image_id), coalesce(n.persistent, g.persistent, 0), n.bind_address, "
    "n.boot_address, n.boot_address_at, coalesce(n.bind_address, g.bind_address, 1), n.hostname, "
    "n.home_server_id, n.home_placed_at "
    "FROM nodes n LEFT JOIN groups g ON g.id = n.group_id ";

Node read_node(const Statement& row) {
    Node n;
    n.id = row.int64(0);
    n.name = row.text(1);
    n.mac = row.text(2);
    n.group_id = row.opt_int64(3);
    n.image_id = row.opt_int64(4);
    if (!row.is_null(5)) n.persistent = row.boolean(5);
    n.enabled = row.boolean(6);
    n.iqn = row.text(7);
    n.chap_user = row.text(8);
    n.chap_secret = row.text(9);
    n.fixed_ip = row.opt_text(10);
    n.created_at = row.int64(11);
    n.disk_version_id = row.opt_int64(12);
    n.disk_path = row.opt_text(13);
    n.last_boot_at = row.opt_int64(14);
    n.state = row.text(15);
    n.effective_image_id = row.opt_int64(16);
    n.effective_persistent = row.boolean(17);
    if (!row.is_null(18)) n.bind_address = row.boolean(18);
    n.boot_address = row.opt_text(19);
    n.boot_address_at = row.opt_int64(20);
    n.effective_bind_address = row.boolean(21);
    n.hostname = row.opt_text(22);
    n.home_server_id = row.opt_int64(23);
    n.home_placed_at = row.opt_int64(24);
    n.effective_hostname = n.hostname ? n.hostname : canonical_hostname(n.name);
    return n;
}

std::optional<Node> query_one(Database& db, std::string_view where, const auto& key) {
    auto query = db.prepare(std::string(node_columns) + std::string(where));
    query->bind_all(key);
    if (!query->step()) return std::nullopt;
    return read_node(*query);
}

std::string not_found(std::int64_t id) {
    return "node " + std::to_string(id) + " does not exist";
}

// LIKE pattern matching `text` anywhere, with LIKE's wildcards escaped (ESCAPE '\').
std::string contains_pattern(std::string_view text) {
    std::string pattern = "%";
    for (char c : text) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');  // lower(name) is matched
        if (c == '%' || c == '_' || c == '\\') pattern += '\\';
        pattern += c;
    }
    pattern += '%';
    return pattern;
}

void require_node_state(std::string_view state) {
    if (state.empty() || state.size() > 32) throw InvalidArgument("state", "must be 1-32 characters");
}

}  // namespace

bool exists(Database& db, std::string_view table, std::int64_t id) {
    auto query = db.prepare("SELECT 1 FROM " + std::string(table) + " WHERE id = ?");
    query->bind_all(id);
    return query->step();
}

std::optional<std::string> canonical_ipv4(std::string_view text) {
    if (text.size() > 15) return std::nullopt;
    const std::string copy(text);
    in_addr address{};
    if (inet_pton(AF_INET, copy.c_str(), &address) != 1) return std::nullopt;
    std::array<char, INET_ADDRSTRLEN> buffer{};
    inet_ntop(AF_INET, &address, buffer.data(), buffer.size());
    return std::string(buffer.data());
}

std::string require_fixed_ip(std::string_view text) {
    const auto address = canonical_ipv4(text);
    if (!address) throw InvalidArgument("fixed_ip", "'" + std::string(text) + "' is not an IPv4 address");
    in_addr parsed{};
    inet_pton(AF_INET, address->c_str(), &parsed);
    const std::uint32_t value = ntohl(parsed.s_addr);
    const std::uint32_t first_octet = value >> 24;
    const bool link_local = (value >> 16) == 0xa9fe;  // 169.254.0.0/16
    if (first_octet == 0 || first_octet == 127 || first_octet >= 224 || link_local) {
        throw InvalidArgument("fixed_ip", "'" + *address +
                                              "' is not a host address a machine can be given (0.x, 127.x, "
                                              "169.254.x, multicast and reserved addresses are refused)");
    }
    return *address;
}

void set_hostname(NodeIdentity& identity, const std::optional<std::string>& hostname) {
    identity.hostname = hostname ? std::optional(require_hostname("hostname", *hostname)) : std::nullopt;
    identity.effective_hostname = identity.hostname ? identity.hostname : canonical_hostname(identity.name);
}

std::optional<NodeConflict> find_node_conflict(Database& db, const NodeIdentity& identity,
                                               std::optional<std::int64_t> self) {
    // A node without an explicit host name goes by its name (lower case) when that is a host name; a name
    // that is not one cannot equal the valid host name ?6, so lower(name) needs no validity test here.
    auto query = db.prepare(
        "SELECT name = ?1, mac = ?2, iqn = ?3, fixed_ip IS NOT NULL AND fixed_ip = ?4, name, hostname IS "
        "NULL "
        "FROM nodes WHERE (name = ?1 OR mac = ?2 OR iqn = ?3 OR fixed_ip = ?4 OR "
        "coalesce(hostname, lower(name)) = ?6) AND id IS DISTINCT FROM ?5 LIMIT 1");
    query->bind_all(identity.name, identity.mac, identity.iqn, identity.fixed_ip, self,
                    identity.effective_hostname);
    if (!query->step()) return std::nullopt;
    const std::string other = query->text(4);
    if (query->boolean(0)) return NodeConflict{"name", "a node named '" + other + "' already exists"};
    if (query->boolean(1)) {
        return NodeConflict{"mac", "MAC " + identity.mac + " is already enrolled as node '" + other + "'"};
    }
    if (query->boolean(2)) {
        return NodeConflict{"name",
                            "maps to the same iSCSI name as node '" + other + "' (" + identity.iqn + ")"};
    }
    if (query->boolean(3)) {
        return NodeConflict{"fixed_ip", "address " + identity.fixed_ip.value_or("") +
                                            " is already fixed for node '" + other + "'"};
    }
    const std::string used = "host name " + identity.effective_hostname.value_or("") +
                             " is already used by node '" + other + "'" +
                             (query->boolean(5) ? " (its node name)" : "");
    if (identity.hostname) return NodeConflict{"hostname", used};
    return NodeConflict{"hostname", used + "; this node goes by its name " + identity.name +
                                        ": give it a host name of its own"};
}

std::int64_t insert_node(Database& db, const NodeIdentity& identity, const NodePlacement& placement) {
    auto insert = db.prepare(
        "INSERT INTO nodes (name, mac, group_id, image_id, persistent, enabled, iqn, chap_user, chap_secret, "
        "fixed_ip, created_at, bind_address, hostname) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "RETURNING id");
    insert->bind_all(identity.name, identity.mac, placement.group_id, placement.image_id,
                     placement.persistent, placement.enabled, identity.iqn,
                     random_credential(chap_user_length), random_credential(chap_secret_length),
                     identity.fixed_ip, now_ms(), placement.bind_address, identity.hostname);
    return insert->insert_returning_id();
}

NodeIdentity checked_identity(Database& db, std::string_view name, std::string_view mac,
                              const std::optional<std::string>& fixed_ip,
                              const std::optional<std::string>& hostname, std::optional<std::int64_t> self) {
    require_valid_name("name", name);
    NodeIdentity identity{std::string(name), require_mac(mac), node_iqn(name), std::nullopt};
    if (fixed_ip) identity.fixed_ip = require_fixed_ip(*fixed_ip);
    set_hostname(identity, hostname);
    if (auto conflict = find_node_conflict(db, identity, self))
        throw Conflict(conflict->field, conflict->message);
    return identity;
}

void check_placement(Database& db, const NodePlacement& placement) {
    if (placement.group_id && !exists(db, "groups", *placement.group_id)) {
        throw InvalidArgument("group", "group " + std::to_string(*placement.group_id) + " does not exist");
    }
    if (placement.image_id && !exists(db, "images", *placement.image_id)) {
        throw InvalidArgument("image", "image " + std::to_string(*placement.image_id) + " does not exist");
    }
}

Node NodesRepo::add(const NewNode& node) {
    // The write lock is taken before the checks, so another process cannot slip a clashing row in between.
    Transaction tx(db_);
    const NodeIdentity identity =
        checked_identity(db_, node.name, node.mac, node.fixed_ip, node.hostname, std::nullopt);
    const NodePlacement placement{node.group_id, node.image_id, node.persistent, node.enabled,
                                  node.bind_address};
    check_placement(db_, placement);
    const std::int64_t id = insert_node(db_, identity, placement);
    tx.commit();
    return get(id);
}

std::optional<Node> NodesRepo::find(std::int64_t id) {
    return query_one(db_, "WHERE n.id = ?", id);
}

std::optional<Node> NodesRepo::find_by_name(std::string_view name) {
    return query_one(db_, "WHERE n.name = ?", name);
}

std::optional<Node> NodesRepo::find_by_mac(std::string_view mac) {
    const auto normalized = normalize_mac(mac);
    if (!normalized) return std::nullopt;
    return query_one(db_, "WHERE n.mac = ?", *normalized);
}

Node NodesRepo::get(std::int64_t id) {
    auto node = find(id);
    if (!node) throw NotFound(not_found(id));
    return *node;
}

std::vector<Node> NodesRepo::all() {
    std::vector<Node> nodes;
    NodeFilter filter{.limit = 10000};
    while (true) {
        auto page = list(filter);
        nodes.insert(nodes.end(), std::make_move_iterator(page.nodes.begin()),
                     std::make_move_iterator(page.nodes.end()));
        filter.offset += static_cast<std::int64_t>(page.nodes.size());
        if (page.nodes.empty() || filter.offset >= page.total) return nodes;
    }
}

NodePage NodesRepo::list(const NodeFilter& filter) {
    if (filter.limit < 1 || filter.limit > 10000) throw InvalidArgument("limit", "must be 1..10000");
    if (filter.offset < 0) throw InvalidArgument("offset", "must not be negative");
    // Every condition is always present and switched off by a NULL parameter, so one cached statement
    // serves all filters.
    const std::string where =
        "WHERE (?1 IS NULL OR n.group_id = ?1) "
        "AND (?2 IS NULL OR coalesce(n.image_id, g.image_id) = ?2) "
        "AND (?3 IS NULL OR lower(n.name) COLLATE \"binary\" LIKE ?3 ESCAPE '\\' OR n.mac LIKE ?3 ESCAPE "
        "'\\') ";
    const std::optional<std::string> pattern =
        filter.search.empty() ? std::nullopt : std::optional(contains_pattern(filter.search));

    NodePage page;
    {
        auto count =
            db_.prepare("SELECT count(*) FROM nodes n LEFT JOIN groups g ON g.id = n.group_id " + where);
        count->bind_all(filter.group_id, filter.image_id, pattern);
        count->step();
        page.total = count->int64(0);
    }
    auto query = db_.prepare(std::string(node_columns) + where + "ORDER BY n.name LIMIT ?4 OFFSET ?5");
    query->bind_all(filter.group_id, filter.image_id, pattern, filter.limit, filter.offset);
    while (query->step())
        page.nodes.push_back(read_node(*query));
    return page;
}

Node NodesRepo::update(std::int64_t id, const NodeChanges& changes) {
    Transaction tx(db_);
    const Node current = get(id);
    const std::string name = changes.name.value_or(current.name);
    const std::string mac = changes.mac.value_or(current.mac);
    const auto fixed_ip = changes.fixed_ip.value_or(current.fixed_ip);
    const auto hostname = changes.hostname.value_or(current.hostname);
    NodeIdentity identity = checked_identity(db_, name, mac, fixed_ip, hostname, id);
    identity.iqn = current.iqn;  // the IQN is the node's stable iSCSI identity: a rename keeps it
    const NodePlacement placement{
        changes.group_id.value_or(current.group_id), changes.image_id.value_or(current.image_id),
        changes.persistent.value_or(current.persistent), changes.enabled.value_or(current.enabled),
        changes.bind_address.value_or(current.bind_address)};
    check_placement(db_, placement);
    auto update = db_.prepare(
        "UPDATE nodes SET name = ?, mac = ?, fixed_ip = ?, group_id = ?, image_id = ?, persistent = ?, "
        "enabled = ?, bind_address = ?, hostname = ? WHERE id = ?");
    update->bind_all(identity.name, identity.mac, identity.fixed_ip, placement.group_id, placement.image_id,
                     placement.persistent, placement.enabled, placement.bind_address, identity.hostname, id);
    update->run();
    tx.commit();
    return get(id);
}

void NodesRepo::remove(std::int64_t id) {
    auto erase = db_.prepare("DELETE FROM nodes WHERE id = ?");
    erase->bind_all(id);
    erase->run();
    if (db_.changes() == 0) throw NotFound(not_found(id));
}

void NodesRepo::set_disk(std::int64_t id, std::optional<std::int64_t> version_id,
                         std::optional<std::string> disk_path) {
    if (version_id && !exists(db_, "versions", *version_id)) {
        throw InvalidArgument("disk_version_id",
                              "version " + std::to_string(*version_id) + " does not exist");
    }
    auto update = db_.prepare("UPDATE nodes SET disk_version_id = ?, disk_path = ? WHERE id = ?");
    update->bind_all(version_id, disk_path, id);
    update->run();
    if (db_.changes() == 0) throw NotFound(not_found(id));
}

void NodesRepo::record_boot(std::int64_t id, std::string_view state, std::int64_t at_ms) {
    require_node_state(state);
    auto update = db_.prepare("UPDATE nodes SET state = ?, last_boot_at = ? WHERE id = ?");
    update->bind_all(state, at_ms, id);
    update->run();
    if (db_.changes() == 0) throw NotFound(not_found(id));
}

void NodesRepo::set_state(std::int64_t id, std::string_view state) {
    require_node_state(state);
    auto update = db_.prepare("UPDATE nodes SET state = ? WHERE id = ?");
    update->bind_all(state, id);
    update->run();
    if (db_.changes() == 0) throw NotFound(not_found(id));
}

void NodesRepo::set_every_state(std::string_view state, std::optional<std::int64_t> home_server) {
    require_node_state(state);
    auto update = db_.prepare(
        "UPDATE nodes SET state = ?1 WHERE state != ?1 AND (?2 IS NULL OR home_server_id IS NULL OR "
        "home_server_id = ?2)");
    update->bind_all(state, home_server);
    update->run();
}

void NodesRepo::set_home_server(std::int64_t id, std::optional<std::int64_t> server_id, std::int64_t at_ms) {
    auto update = db_.prepare("UPDATE nodes SET home_server_id = ?, home_placed_at = ? WHERE id = ?");
    update->bind_all(server_id, server_id ? std::optional(at_ms) : std::nullopt, id);
    update->run();
    if (db_.changes() == 0) throw NotFound(not_found(id));
}

void NodesRepo::set_boot_address(std::int64_t id, std::optional<std::string> address, std::int64_t at_ms) {
    auto update = db_.prepare("UPDATE nodes SET boot_address = ?, boot_address_at = ? WHERE id = ?");
    update->bind_all(address, address ? std::optional(at_ms) : std::nullopt, id);
    update->run();
    if (db_.changes() == 0) throw NotFound(not_found(id));
}

}  // namespace bootherd::db
