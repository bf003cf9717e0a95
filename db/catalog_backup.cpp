#include "db/catalog_backup.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "db/error.hpp"

namespace bootherd::db {
namespace {

// All pages in one step, under one read transaction: in WAL mode that blocks no writer, while a copy in
// steps starts over whenever another connection (a running serve) writes in between.
constexpr int pages_per_step = -1;
constexpr int busy_wait_ms = 50;
constexpr int busy_waits = 600;  // 30 s of other writers holding the database before the backup gives up

struct BackupCloser {
    void operator()(sqlite3_backup* backup) const noexcept { sqlite3_backup_finish(backup); }
};

void copy_into(Database& source, Database& target) {
    std::unique_ptr<sqlite3_backup, BackupCloser> backup(
        sqlite3_backup_init(target.sqlite_handle(), "main", source.sqlite_handle(), "main"));
    if (!backup) throw Error(std::string("catalog backup: ") + sqlite3_errmsg(target.sqlite_handle()));
    int waits = 0;
    while (true) {
        const int rc = sqlite3_backup_step(backup.get(), pages_per_step);
        if (rc == SQLITE_DONE) break;
        if (rc == SQLITE_OK) continue;
        if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && ++waits < busy_waits) {
            sqlite3_sleep(busy_wait_ms);
            continue;
        }
        throw Error(std::string("catalog backup: ") + sqlite3_errstr(rc));
    }
    const int rc = sqlite3_errcode(target.sqlite_handle());
    if (rc != SQLITE_OK && rc != SQLITE_DONE)
        throw Error(std::string("catalog backup: ") + sqlite3_errstr(rc));
}

}  // namespace

void backup_database(Database& source, const std::filesystem::path& destination) {
    if (source.backend() != Backend::sqlite)
        throw Error(
            "catalog backup: the catalog is on PostgreSQL; back up a PostgreSQL catalog with pg_dump");
    // The copy holds the same secrets as the catalog: private from its first byte.
    const int fd = ::open(destination.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        throw Error("catalog backup: cannot create " + destination.string() + ": " + std::strerror(errno));
    ::close(fd);
    try {
        auto target = Database::open(destination.string());
        copy_into(source, target);
        target.exec("PRAGMA journal_mode = DELETE");  // one self-contained file, no -wal beside it
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove(destination, ignored);
        throw;
    }
}

}  // namespace bootherd::db
