#include "db/leases_repo.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "db/error.hpp"
#include "db/identifiers.hpp"
#include "db/nodes_internal.hpp"

namespace bootherd::db {
namespace {

constexpr std::string_view lease_columns = "SELECT mac, ip, expires_at, hostname FROM leases ";

std::optional<Lease> query_one(Database& db, std::string_view where, std::string_view key) {
    auto query = db.prepare(std::string(lease_columns) + std::string(where));
    query->bind_all(key);
    if (!query->step()) return std::nullopt;
    return Lease{query->text(0), query->text(1), query->int64(2), query->text(3)};
}

std::uint32_t ipv4_value(const std::string& ip) {
    in_addr address{};
    inet_pton(AF_INET, ip.c_str(), &address);
    return ntohl(address.s_addr);
}

}  // namespace

void LeasesRepo::upsert(const Lease& lease) {
    const std::string mac = require_mac(lease.mac);
    const auto ip = canonical_ipv4(lease.ip);
    if (!ip) throw InvalidArgument("ip", "'" + lease.ip + "' is not an IPv4 address");
    if (auto holder = find_by_ip(*ip); holder && holder->mac != mac) {
        throw Conflict("ip", *ip + " is leased to " + holder->mac);
    }
    auto upsert = db_.prepare(
        "INSERT INTO leases (mac, ip, expires_at, hostname) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (mac) DO UPDATE SET ip = excluded.ip, expires_at = excluded.expires_at, "
        "hostname = excluded.hostname");
    upsert->bind_all(mac, *ip, lease.expires_at, lease.hostname);
    upsert->run();
}

std::optional<Lease> LeasesRepo::find(std::string_view mac) {
    const auto normalized = normalize_mac(mac);
    if (!normalized) return std::nullopt;
    return query_one(db_, "WHERE mac = ?", *normalized);
}

std::optional<Lease> LeasesRepo::find_by_ip(std::string_view ip) {
    return query_one(db_, "WHERE ip = ?", ip);
}

std::vector<Lease> LeasesRepo::list() {
    auto query = db_.prepare(lease_columns);
    std::vector<Lease> leases;
    while (query->step())
        leases.push_back(Lease{query->text(0), query->text(1), query->int64(2), query->text(3)});
    // Numeric order of the addresses (text order would put 10.0.0.10 before 10.0.0.9).
    std::sort(leases.begin(), leases.end(),
              [](const Lease& a, const Lease& b) { return ipv4_value(a.ip) < ipv4_value(b.ip); });
    return leases;
}

bool LeasesRepo::remove(std::string_view mac) {
    const auto normalized = normalize_mac(mac);
    if (!normalized) return false;
    auto erase = db_.prepare("DELETE FROM leases WHERE mac = ?");
    erase->bind_all(*normalized);
    erase->run();
    return db_.changes() != 0;
}

std::int64_t LeasesRepo::remove_expired(std::int64_t now_ms) {
    auto erase = db_.prepare("DELETE FROM leases WHERE expires_at < ?");
    erase->bind_all(now_ms);
    erase->run();
    return db_.changes();
}

}  // namespace bootherd::db
