#pragma once
// A consistent copy of the catalog while it is in use: SQLite's online backup API copies the database page
// by page under a read transaction, so writers in this or other processes (WAL) go on meanwhile and the copy
// is one committed state. Copying catalog.db with cp is not a backup: the newest commits live in
// catalog.db-wal.
#include <filesystem>

#include "db/database.hpp"

namespace bootherd::db {

// Writes `source` to `destination` (created 0600; Error if it exists). Throws Error on failure and removes
// the partial file. A PostgreSQL catalog is refused: pg_dump backs that up.
void backup_database(Database& source, const std::filesystem::path& destination);

}  // namespace bootherd::db
