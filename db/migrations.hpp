#pragma once
// Schema migrations: an ordered list of SQL scripts. Script i (0-based) moves the schema from version i to
// i + 1; the version lives in PRAGMA user_version. Append new scripts, never edit shipped ones.
#include <span>
#include <string_view>

#include "db/sqlite.hpp"

namespace bootherd::db {

std::span<const std::string_view> migration_scripts() noexcept;

// The schema version this build understands (the number of scripts).
int latest_schema_version() noexcept;

int schema_version(sqlite::Database& db);

// Applies every pending script, each in its own transaction. Throws db::Error if the database was written by
// a newer build (user_version above latest_schema_version()).
void migrate(sqlite::Database& db);

}  // namespace bootherd::db
