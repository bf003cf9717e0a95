#pragma once
// The PostgreSQL implementation of the catalog connection (db/database.hpp), over libpq. Parameters travel as
// text with the type of the C++ value bound; results are read as text and parsed by the column getters.
#include <memory>
#include <string>
#include <string_view>

#include "db/database.hpp"

namespace bootherd::db {

// Connects to a "postgresql://" URI; throws CatalogUnavailable when the server cannot be reached.
std::unique_ptr<ConnectionBackend> open_postgres(const std::string& location);

struct RewrittenSql {
    std::string sql;
    int parameters = 0;
};
// SQLite's `?` and `?N` placeholders as PostgreSQL's $N, outside quoted strings and comments.
RewrittenSql to_dollar_placeholders(std::string_view sql);

}  // namespace bootherd::db
