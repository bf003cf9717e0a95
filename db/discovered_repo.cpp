#include "db/discovered_repo.hpp"

#include <algorithm>

#include "db/identifiers.hpp"

namespace bootherd::db {
namespace {

constexpr std::string_view discovered_columns =
    "SELECT d.mac, d.first_seen, d.last_seen, d.arch, d.vendor_class, d.seen_count FROM discovered d ";

Discovered read_discovered(const Statement& row) {
    return Discovered{row.text(0), row.int64(1), row.int64(2), row.text(3), row.text(4), row.int64(5)};
}

}  // namespace

Discovered DiscoveredRepo::record_seen(std::string_view mac, std::int64_t at_ms, std::string_view arch,
                                       std::string_view vendor_class) {
    const std::string normalized = require_mac(mac);
    auto upsert = db_.prepare(
        "INSERT INTO discovered (mac, first_seen, last_seen, arch, vendor_class) VALUES (?1, ?2, ?2, ?3, ?4) "
        "ON CONFLICT (mac) DO UPDATE SET last_seen = CASE WHEN excluded.last_seen > discovered.last_seen "
        "THEN "
        "excluded.last_seen ELSE discovered.last_seen END, arch = excluded.arch, "
        "vendor_class = excluded.vendor_class, seen_count = discovered.seen_count + 1");
    upsert->bind_all(normalized, at_ms, arch, vendor_class);
    upsert->run();
    return *find(normalized);
}

std::optional<Discovered> DiscoveredRepo::find(std::string_view mac) {
    const auto normalized = normalize_mac(mac);
    if (!normalized) return std::nullopt;
    auto query = db_.prepare(std::string(discovered_columns) + "WHERE d.mac = ?");
    query->bind_all(*normalized);
    if (!query->step()) return std::nullopt;
    return read_discovered(*query);
}

std::vector<Discovered> DiscoveredRepo::list(bool unenrolled_only) {
    auto query = db_.prepare(std::string(discovered_columns) +
                             "WHERE ?1 = 0 OR NOT EXISTS (SELECT 1 FROM nodes n WHERE n.mac = d.mac) "
                             "ORDER BY d.last_seen DESC, d.mac");
    query->bind_all(unenrolled_only);
    std::vector<Discovered> rows;
    while (query->step())
        rows.push_back(read_discovered(*query));
    return rows;
}

bool DiscoveredRepo::remove(std::string_view mac) {
    const auto normalized = normalize_mac(mac);
    if (!normalized) return false;
    auto erase = db_.prepare("DELETE FROM discovered WHERE mac = ?");
    erase->bind_all(*normalized);
    erase->run();
    return db_.changes() != 0;
}

std::int64_t DiscoveredRepo::trim(std::int64_t max_rows) {
    auto erase = db_.prepare(
        "DELETE FROM discovered WHERE mac NOT IN "
        "(SELECT mac FROM discovered ORDER BY last_seen DESC, mac LIMIT ?)");
    erase->bind_all(std::max<std::int64_t>(0, max_rows));
    erase->run();
    return db_.changes();
}

}  // namespace bootherd::db
