#pragma once
// Schema migrations: an ordered list of SQL scripts. Script i (0-based) moves the schema from version i to
// i + 1; the version lives in PRAGMA user_version (PostgreSQL: table schema_version). PostgreSQL starts from
// a baseline equal to a later SQLite version; append new scripts to both lists, never edit shipped ones.
#include <span>
#include <string_view>

#include "db/database.hpp"

namespace bootherd::db {

std::span<const std::string_view> migration_scripts() noexcept;

// The schema version this build understands (the number of scripts).
int latest_schema_version() noexcept;

int schema_version(Database& db);

// Applies every pending script, each in its own write transaction. Throws db::Error if the database was
// written by a newer build (user_version above latest_schema_version()).
void migrate(Database& db);

}  // namespace bootherd::db
