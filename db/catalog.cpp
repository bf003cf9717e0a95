#include "db/catalog.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "common/log.hpp"
#include "db/catalog_backup.hpp"
#include "db/clock.hpp"
#include "db/migrations.hpp"

namespace bootherd::db {
namespace {

constexpr int busy_timeout_ms = 5000;

// The catalog holds CHAP secrets and password hashes: a new one is made 0600 whatever the umask, and SQLite
// gives its -wal and -shm files the database file's mode.
void create_private(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        ::close(fd);
        return;
    }
    if (errno != EEXIST) throw std::system_error(errno, std::generic_category(), "create " + path.string());
}

// Before a migration changes an existing catalog, a copy of it as it was goes to <data>/backups/, so a failed
// upgrade can be undone by restoring it with the old bootherd.
void backup_before_migration(Database& db, const std::filesystem::path& path) {
    const int from = schema_version(db);
    if (from == 0 || from >= latest_schema_version()) return;
    const auto directory = path.parent_path() / "backups";
    std::filesystem::create_directories(directory);
    std::filesystem::permissions(directory, std::filesystem::perms::owner_all);
    const auto copy =
        directory / ("catalog-schema-" + std::to_string(from) + "-" + std::to_string(now_ms()) + ".db");
    backup_database(db, copy);
    log::info("catalog: schema ", from, " -> ", latest_schema_version(),
              ": the catalog as it was is saved as ", copy.string());
}

}  // namespace

Catalog Catalog::open(const std::string& location) {
    if (Database::is_postgres_location(location)) {
        auto db = Database::open(location);
        migrate(db);
        return Catalog(std::make_unique<State>(std::move(db)));
    }
    create_private(location);
    return open_database(location, true);
}

Catalog Catalog::open_in_memory() {
    return open_database(":memory:", false);
}

Catalog Catalog::open_database(const std::string& path, bool on_disk) {
    auto db = Database::open(path);
    sqlite3_busy_timeout(db.sqlite_handle(), busy_timeout_ms);
    // Both pragmas are no-ops inside a transaction, so they are set before any migration runs.
    db.exec("PRAGMA foreign_keys = ON");
    if (on_disk) {
        auto mode = db.prepare_uncached("PRAGMA journal_mode = WAL");
        if (!mode.step() || mode.text(0) != "wal")
            throw Error("cannot switch " + path + " to WAL journal mode");
        // In WAL mode NORMAL is durable against application crashes and only loses the last commits on
        // power failure, without an fsync per transaction.
        db.exec("PRAGMA synchronous = NORMAL");
    }
    if (on_disk) backup_before_migration(db, path);  // after the pragma statement above is finalized
    migrate(db);
    return Catalog(std::make_unique<State>(std::move(db)));
}

std::vector<std::string> Catalog::Session::referenced_file_paths() {
    auto query = db_.prepare(
        "SELECT file_path FROM versions UNION SELECT disk_path FROM nodes WHERE disk_path IS NOT NULL "
        "ORDER BY 1");
    std::vector<std::string> paths;
    while (query->step())
        paths.push_back(query->text(0));
    return paths;
}

}  // namespace bootherd::db
