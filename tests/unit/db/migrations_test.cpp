#include <doctest/doctest.h>

#include <filesystem>
#include <iterator>
#include <string>
#include <vector>

#include "db/catalog.hpp"
#include "db/migrations.hpp"
#include "test_catalog.hpp"

using namespace bootherd::db;

namespace {

std::string pragma_text(Database& db, const char* pragma) {
    auto query = db.prepare_uncached(std::string("PRAGMA ") + pragma);
    REQUIRE(query.step());
    return query.text(0);
}

}  // namespace

TEST_CASE("a new catalog file gets the full schema and the connection settings") {
    BOOTHERD_SQLITE_ONLY("pragmas and sqlite_schema; postgres_test.cpp checks the PostgreSQL schema");
    test::TempDir dir;
    auto catalog = Catalog::open(dir.path() / "catalog.db");
    auto session = catalog.session();
    auto& db = session.database();
    CHECK(schema_version(db) == latest_schema_version());
    CHECK(pragma_text(db, "journal_mode") == "wal");
    CHECK(pragma_text(db, "foreign_keys") == "1");
    CHECK(pragma_text(db, "synchronous") == "1");  // NORMAL
    CHECK(pragma_text(db, "busy_timeout") == "5000");
    for (const char* table :
         {"images", "versions", "promotions", "groups", "nodes", "discovered", "leases", "events", "audit"}) {
        auto query =
            db.prepare_uncached("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?");
        query.bind_all(table);
        REQUIRE(query.step());
        CHECK_MESSAGE(query.int64(0) == 1, table);
    }
}

TEST_CASE("re-opening a catalog keeps its data and applies nothing twice") {
    test::CatalogLocation where;
    const auto& path = where.str();
    {
        auto catalog = Catalog::open(path);
        catalog.session().images().create("win11");
    }
    auto catalog = Catalog::open(path);
    auto session = catalog.session();
    CHECK(schema_version(session.database()) == latest_schema_version());
    REQUIRE(session.images().list().size() == 1);
    CHECK(session.images().list().front().name == "win11");
    // Migrating an up-to-date database is a no-op.
    migrate(session.database());
    CHECK(session.images().list().size() == 1);
}

TEST_CASE("a catalog written by a newer build is refused with a clear message") {
    test::CatalogLocation where;
    const auto& path = where.str();
    {
        auto db = Database::open(path);
        const std::string newer = std::to_string(latest_schema_version() + 1);
        if (db.backend() == Backend::sqlite) {
            db.exec("PRAGMA user_version = " + newer);
        } else {
            migrate(db);
            db.exec("UPDATE schema_version SET version = " + newer);
        }
    }
    try {
        Catalog::open(path);
        FAIL("opening a future schema must throw");
    } catch (const Error& e) {
        const std::string message = e.what();
        CHECK(message.find("newer") != std::string::npos);
        CHECK(message.find(std::to_string(latest_schema_version() + 1)) != std::string::npos);
    }
}

TEST_CASE("a failing migration script leaves the database at its previous version") {
    auto db = test::fresh_database();
    db.exec("CREATE TABLE images (id INTEGER PRIMARY KEY)");  // clashes with the first script
    CHECK_THROWS_AS(migrate(db), DatabaseError);
    CHECK(schema_version(db) == 0);
    auto query = db.prepare_uncached(db.backend() == Backend::sqlite
                                         ? "SELECT count(*) FROM sqlite_schema WHERE name = 'nodes'"
                                         : "SELECT count(*) FROM pg_tables WHERE tablename = 'nodes'");
    REQUIRE(query.step());
    CHECK(query.int64(0) == 0);
}

TEST_CASE("transactions roll back unless committed, and nest as savepoints") {
    auto db = test::fresh_database();
    db.exec("CREATE TABLE t (v INTEGER)");
    auto count = [&db] {
        auto query = db.prepare("SELECT count(*) FROM t");
        query->step();
        return query->int64(0);
    };
    {
        Transaction tx(db);
        db.exec("INSERT INTO t VALUES (1)");
    }
    CHECK(count() == 0);
    {
        Transaction outer(db);
        db.exec("INSERT INTO t VALUES (1)");
        {
            Transaction inner(db);
            db.exec("INSERT INTO t VALUES (2)");
        }
        {
            Transaction inner(db);
            db.exec("INSERT INTO t VALUES (3)");
            inner.commit();
        }
        outer.commit();
    }
    CHECK(count() == 2);
    CHECK_FALSE(db.in_transaction());
}

TEST_CASE("a cached statement cannot be used re-entrantly") {
    auto db = test::fresh_database();
    auto first = db.prepare("SELECT 1");
    CHECK_THROWS_AS(db.prepare("SELECT 1"), Error);
}

TEST_CASE("before migrating an existing catalog, a copy of it as it was goes to backups/") {
    BOOTHERD_SQLITE_ONLY("the pre-migration copy uses SQLite's online backup");
    test::TempDir dir;
    const auto path = dir.path() / "catalog.db";
    const int older = latest_schema_version() - 1;
    {
        auto db = Database::open(path.string());
        for (int i = 0; i < older; ++i)
            db.exec(migration_scripts()[static_cast<std::size_t>(i)]);
        db.exec("PRAGMA user_version = " + std::to_string(older));
        db.exec("INSERT INTO images (name, created_at) VALUES ('kept', 1)");
    }
    auto catalog = Catalog::open(path);
    CHECK(catalog.session().images().find_by_name("kept"));
    std::vector<std::filesystem::path> copies;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path() / "backups"))
        copies.push_back(entry.path());
    REQUIRE(copies.size() == 1);
    CHECK(copies[0].filename().string().starts_with("catalog-schema-" + std::to_string(older) + "-"));
    CHECK((std::filesystem::status(copies[0]).permissions() & std::filesystem::perms::group_all) ==
          std::filesystem::perms::none);
    auto copy = Database::open(copies[0].string());
    CHECK(schema_version(copy) == older);
    auto count = copy.prepare_uncached("SELECT count(*) FROM images WHERE name = 'kept'");
    REQUIRE(count.step());
    CHECK(count.int64(0) == 1);

    // Opening the now current catalog again makes no further copy.
    { auto again = Catalog::open(path); }
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path() / "backups"),
                        std::filesystem::directory_iterator()) == 1);
}
