#pragma once
// The PostgreSQL implementation of the catalog connection (db/database.hpp), over libpq. Parameters travel as
// text with the type of the C++ value bound; results are read as text and parsed by the column getters.
#include <memory>
#include <string>
#include <string_view>

#include "db/database.hpp"

struct pg_conn;  // libpq's PGconn

namespace bootherd::db {

// Connects to a "postgresql://" URI; throws CatalogUnavailable when the server cannot be reached.
std::unique_ptr<ConnectionBackend> open_postgres(const std::string& location);

// A libpq connection to a "postgresql://" URI with the catalog's defaults (connect timeout, keepalives,
// application name; the URI may override them) and notices silenced, for a connection of one's own (LISTEN).
// The caller PQfinish()es it. Throws CatalogUnavailable, naming the server but never the password.
pg_conn* connect_postgres(const std::string& location);

// Where a connection's catalog lives, without credentials: "postgresql://host:port/db".
std::string describe_postgres(const pg_conn* connection);

struct RewrittenSql {
    std::string sql;
    int parameters = 0;
};
// SQLite's `?` and `?N` placeholders as PostgreSQL's $N, outside quoted strings and comments.
RewrittenSql to_dollar_placeholders(std::string_view sql);

}  // namespace bootherd::db
