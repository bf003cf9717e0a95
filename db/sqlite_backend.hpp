#pragma once
// The SQLite implementation of the catalog connection (db/database.hpp).
#include <memory>
#include <string>

#include "db/database.hpp"

namespace bootherd::db {

// Opens (creating if needed) a database file; ":memory:" gives a private in-memory database.
std::unique_ptr<ConnectionBackend> open_sqlite(const std::string& path);

}  // namespace bootherd::db
