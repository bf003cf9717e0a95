#pragma once
// The catalog: one SQLite database holding images, versions, nodes, groups, leases and the event log.
//
// Threading model: a Catalog owns one connection (opened in SQLite's serialized mode) and one mutex.
// Every access goes through a Session, which holds the mutex for its lifetime, so a Catalog may be shared by
// any number of threads (web handlers, boot services, their worker pool). Keep sessions short and never hold
// one across a co_await or blocking I/O: other threads wait for it. The mutex is recursive, so a nested
// session on the same thread is harmless (it shares the connection and any open transaction). Writers in
// other processes (the CLI) are tolerated through WAL and busy_timeout.
//
//     auto session = catalog.session();
//     auto node = session.nodes().add({.name = "pc-01", .mac = "52:54:00:12:34:56"});
//
// Several calls that must be atomic together: open a sqlite::Transaction on session.database().
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "db/audit_repo.hpp"
#include "db/boots_repo.hpp"
#include "db/discovered_repo.hpp"
#include "db/events_repo.hpp"
#include "db/groups_repo.hpp"
#include "db/images_repo.hpp"
#include "db/leases_repo.hpp"
#include "db/nodes_repo.hpp"
#include "db/rollouts_repo.hpp"
#include "db/servers_repo.hpp"
#include "db/sqlite.hpp"
#include "db/versions_repo.hpp"

namespace bootherd::db {

class Catalog {
  public:
    // Opens or creates the database file and brings its schema up to date. Throws db::Error when the file
    // was written by a newer bootherd.
    static Catalog open(const std::filesystem::path& path);
    // A private in-memory catalog (tests, dry runs).
    static Catalog open_in_memory();

    class Session {
      public:
        ImagesRepo images() { return ImagesRepo(db_); }
        VersionsRepo versions() { return VersionsRepo(db_); }
        GroupsRepo groups() { return GroupsRepo(db_); }
        NodesRepo nodes() { return NodesRepo(db_); }
        EventsRepo events() { return EventsRepo(db_); }
        LeasesRepo leases() { return LeasesRepo(db_); }
        DiscoveredRepo discovered() { return DiscoveredRepo(db_); }
        AuditRepo audit() { return AuditRepo(db_); }
        BootsRepo boots() { return BootsRepo(db_); }
        RolloutsRepo rollouts() { return RolloutsRepo(db_); }
        ServersRepo servers() { return ServersRepo(db_); }
        sqlite::Database& database() noexcept { return db_; }

        // Every file the catalog points at (version files and node disks), relative to the data directory,
        // sorted and without duplicates: whatever else is in the image store is an orphan.
        std::vector<std::string> referenced_file_paths();

      private:
        friend class Catalog;
        Session(std::recursive_mutex& mutex, sqlite::Database& db) : lock_(mutex), db_(db) {}
        std::unique_lock<std::recursive_mutex> lock_;
        sqlite::Database& db_;
    };

    Session session() { return Session(state_->mutex, state_->db); }

  private:
    struct State {
        explicit State(sqlite::Database database) : db(std::move(database)) {}
        std::recursive_mutex mutex;
        sqlite::Database db;
    };
    static Catalog open_database(const std::string& path, bool on_disk);
    explicit Catalog(std::unique_ptr<State> state) : state_(std::move(state)) {}
    std::unique_ptr<State> state_;  // stable address for sessions; keeps Catalog movable
};

}  // namespace bootherd::db
