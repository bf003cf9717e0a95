#pragma once
// The catalog the db tests run against. Unset BOOTHERD_TEST_CATALOG: SQLite (in memory, or a file in a temp
// dir); a PostgreSQL URI: that database, emptied (DROP SCHEMA public CASCADE) for every catalog a test case
// makes fresh, so each case starts from nothing, as with SQLite.
#include <doctest/doctest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "db/catalog.hpp"
#include "db/database.hpp"
#include "temp_dir.hpp"

namespace bootherd::db::test {

inline std::optional<std::string> postgres_location() {
    const char* location = std::getenv("BOOTHERD_TEST_CATALOG");
    if (location == nullptr || !Database::is_postgres_location(location)) return std::nullopt;
    return std::string(location);
}

inline bool on_postgres() {
    return postgres_location().has_value();
}

// Ends a test case that only means something on SQLite (file format, online backup, pragmas); says so.
#define BOOTHERD_SQLITE_ONLY(why)                                 \
    do {                                                          \
        if (::bootherd::db::test::on_postgres()) {                \
            MESSAGE("skipped on PostgreSQL (SQLite only): " why); \
            return;                                               \
        }                                                         \
    } while (false)

inline void empty_postgres(const std::string& location) {
    auto db = Database::open(location);
    db.exec("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public");
}

// An empty database without the catalog schema.
inline Database fresh_database() {
    if (const auto location = postgres_location()) {
        empty_postgres(*location);
        return Database::open(*location);
    }
    return Database::open(":memory:");
}

// A new, empty catalog.
inline Catalog fresh_catalog() {
    if (const auto location = postgres_location()) {
        empty_postgres(*location);
        return Catalog::open(*location);
    }
    return Catalog::open_in_memory();
}

// Where several catalogs (as several processes would) open the same empty database: a file in a temp dir,
// or the emptied PostgreSQL database.
class CatalogLocation {
  public:
    CatalogLocation() {
        if (const auto location = postgres_location()) {
            empty_postgres(*location);
            location_ = *location;
        } else {
            location_ = (dir_.path() / "catalog.db").string();
        }
    }
    const std::string& str() const noexcept { return location_; }

  private:
    TempDir dir_;
    std::string location_;
};

}  // namespace bootherd::db::test
