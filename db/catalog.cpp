#include "db/catalog.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

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

}  // namespace

Catalog Catalog::open(const std::filesystem::path& path) {
    create_private(path);
    return open_database(path.string(), true);
}

Catalog Catalog::open_in_memory() {
    return open_database(":memory:", false);
}

Catalog Catalog::open_database(const std::string& path, bool on_disk) {
    auto db = sqlite::Database::open(path);
    sqlite3_busy_timeout(db.handle(), busy_timeout_ms);
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
