#include <doctest/doctest.h>

#include <set>
#include <string>

#include "db/catalog.hpp"
#include "db/catalog_backup.hpp"
#include "db/migrations.hpp"
#include "db/postgres_backend.hpp"
#include "test_catalog.hpp"

using namespace bootherd::db;

namespace {

std::int64_t backend_pid(Catalog& catalog) {
    auto query = catalog.session().database().prepare_uncached("SELECT pg_backend_pid()");
    REQUIRE(query.step());
    return query.int64(0);
}

// Cuts the catalog's connection from the server side, as a PostgreSQL restart or failover would.
void terminate_connection(std::int64_t pid) {
    auto admin = Database::open(*test::postgres_location());
    auto kill = admin.prepare_uncached("SELECT pg_terminate_backend(CAST(? AS INTEGER))");
    kill.bind_all(pid);
    REQUIRE(kill.step());
    REQUIRE(kill.boolean(0));
}

std::set<std::string> table_columns(Database& db, std::string_view sql) {
    auto query = db.prepare_uncached(sql);
    std::set<std::string> columns;
    while (query.step())
        columns.insert(query.text(0));
    return columns;
}

}  // namespace

TEST_CASE("SQLite placeholders become PostgreSQL's, outside strings and comments") {
    CHECK(to_dollar_placeholders("SELECT ? , ?").sql == "SELECT $1 , $2");
    CHECK(to_dollar_placeholders("WHERE a = ?1 OR b = ?1 AND c = ?").sql ==
          "WHERE a = $1 OR b = $1 AND c = $2");
    CHECK(to_dollar_placeholders("VALUES (?3, ?)").parameters == 4);
    const auto quoted = to_dollar_placeholders("SELECT '?', \"a?\", 'it''s ?' -- what?\n, ? /* ? */");
    CHECK(quoted.sql == "SELECT '?', \"a?\", 'it''s ?' -- what?\n, $1 /* ? */");
    CHECK(quoted.parameters == 1);
}

TEST_CASE("a catalog location picks the backend") {
    CHECK(Database::is_postgres_location("postgresql://host/db"));
    CHECK(Database::is_postgres_location("postgres://host/db"));
    CHECK_FALSE(Database::is_postgres_location("/var/lib/bootherd/catalog.db"));
    CHECK_FALSE(Database::is_postgres_location("postgresql.db"));
}

TEST_CASE(
    "an unreachable PostgreSQL catalog is CatalogUnavailable, and its password stays out of the message") {
    try {
        Catalog::open("postgresql://bootherd:s3cr3t-pw@127.0.0.1:1/catalog");
        FAIL("connected to port 1");
    } catch (const CatalogUnavailable& e) {
        const std::string message = e.what();
        CHECK(message.find("s3cr3t-pw") == std::string::npos);
        CHECK(message.find("127.0.0.1") != std::string::npos);
    }
}

TEST_CASE("PostgreSQL: the baseline schema, its version, and a second open applies nothing") {
    if (!test::on_postgres()) {
        MESSAGE("skipped: BOOTHERD_TEST_CATALOG is not a PostgreSQL URI");
        return;
    }
    test::CatalogLocation where;
    {
        auto catalog = Catalog::open(where.str());
        auto s = catalog.session();
        CHECK(schema_version(s.database()) == latest_schema_version());
        s.images().create("Win11");
    }
    auto catalog = Catalog::open(where.str());
    auto s = catalog.session();
    CHECK(schema_version(s.database()) == latest_schema_version());
    // Names are unique and found case-insensitively, as with SQLite's COLLATE NOCASE.
    CHECK(s.images().find_by_name("WIN11").has_value());
    CHECK_THROWS_AS(s.images().create("win11"), Conflict);
    auto tables = s.database().prepare_uncached("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'");
    REQUIRE(tables.step());
    CHECK(tables.int64(0) >= 17);
}

TEST_CASE("PostgreSQL: an online backup is refused with a pointer to pg_dump") {
    if (!test::on_postgres()) {
        MESSAGE("skipped: BOOTHERD_TEST_CATALOG is not a PostgreSQL URI");
        return;
    }
    auto catalog = test::fresh_catalog();
    test::TempDir dir;
    try {
        backup_database(catalog.session().database(), dir.path() / "copy.db");
        FAIL("backup of a PostgreSQL catalog");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("pg_dump") != std::string::npos);
    }
}

TEST_CASE("PostgreSQL: a lost connection is CatalogUnavailable, and the next session reconnects") {
    if (!test::on_postgres()) {
        MESSAGE("skipped: BOOTHERD_TEST_CATALOG is not a PostgreSQL URI");
        return;
    }
    auto catalog = test::fresh_catalog();
    catalog.session().images().create("before");  // caches (prepares) the statements used below

    terminate_connection(backend_pid(catalog));
    CHECK_THROWS_AS(catalog.session().images().list(), CatalogUnavailable);
    // Reconnected, with the cached statements prepared again on the new connection.
    CHECK(catalog.session().images().list().size() == 1);
    catalog.session().images().create("after");

    terminate_connection(backend_pid(catalog));
    CHECK_THROWS_AS(catalog.session().images().create("lost"), CatalogUnavailable);  // inside a transaction
    const auto images = catalog.session().images().list();
    REQUIRE(images.size() == 2);
    CHECK(images[0].name == "after");
    CHECK(images[1].name == "before");
}

TEST_CASE("PostgreSQL: the baseline has every table and column of SQLite's latest schema") {
    if (!test::on_postgres()) {
        MESSAGE("skipped: BOOTHERD_TEST_CATALOG is not a PostgreSQL URI");
        return;
    }
    auto sqlite = Catalog::open_in_memory();
    auto postgres = test::fresh_catalog();
    const auto expected =
        table_columns(sqlite.session().database(),
                      "SELECT m.name || '.' || p.name FROM sqlite_schema m JOIN pragma_table_info(m.name) p "
                      "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%'");
    const auto actual =
        table_columns(postgres.session().database(),
                      "SELECT table_name || '.' || column_name FROM information_schema.columns "
                      "WHERE table_schema = 'public' AND table_name <> 'schema_version'");
    CHECK(expected.size() > 100);
    CHECK(actual == expected);
}
