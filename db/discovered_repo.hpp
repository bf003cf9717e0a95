#pragma once
// Machines seen on the network (PXE DHCP requests) that may not be enrolled yet.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.hpp"

namespace bootherd::db {

struct Discovered {
    std::string mac{};  // normalised
    std::int64_t first_seen = 0;
    std::int64_t last_seen = 0;
    std::string arch{};          // DHCP option 93 client architecture, as text
    std::string vendor_class{};  // DHCP option 60
    std::int64_t seen_count = 0;
};

// Not thread-safe by itself: obtain it from a Catalog::Session, which holds the catalog lock.
class DiscoveredRepo {
  public:
    explicit DiscoveredRepo(Database& db) : db_(db) {}

    // Inserts the MAC or bumps its last_seen, seen_count, arch and vendor class; returns the stored row.
    Discovered record_seen(std::string_view mac, std::int64_t at_ms, std::string_view arch,
                           std::string_view vendor_class);
    std::optional<Discovered> find(std::string_view mac);
    // Most recently seen first; `unenrolled_only` hides MACs that belong to a node.
    std::vector<Discovered> list(bool unenrolled_only = false);
    bool remove(std::string_view mac);
    // Keeps the `max_rows` most recently seen rows, deletes the others; returns how many went.
    std::int64_t trim(std::int64_t max_rows);

  private:
    Database& db_;
};

}  // namespace bootherd::db
