#pragma once
// DHCP leases handed out by the boot services, so they survive a restart.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.hpp"

namespace bootherd::db {

struct Lease {
    std::string mac{};  // normalised
    std::string ip{};   // dotted IPv4
    std::int64_t expires_at = 0;
    std::string hostname{};
};

// Not thread-safe by itself: obtain it from a Catalog::Session, which holds the catalog lock.
class LeasesRepo {
  public:
    explicit LeasesRepo(Database& db) : db_(db) {}

    // Inserts or replaces the lease of `lease.mac`; Conflict("ip") if another MAC holds the address.
    void upsert(const Lease& lease);
    std::optional<Lease> find(std::string_view mac);
    std::optional<Lease> find_by_ip(std::string_view ip);
    std::vector<Lease> list();  // by IP
    bool remove(std::string_view mac);
    // Deletes leases that expired before `now_ms`; returns how many.
    std::int64_t remove_expired(std::int64_t now_ms);

  private:
    Database& db_;
};

}  // namespace bootherd::db
