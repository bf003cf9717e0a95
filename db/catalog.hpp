#pragma once
// The catalog: one database holding images, versions, nodes, groups, leases and the event log: an SQLite file
// (the embedded default) or a PostgreSQL database that several servers share (see db/database.hpp).
//
// Threading model: a Catalog owns one connection and one mutex.
// Every access goes through a Session, which holds the mutex for its lifetime, so a Catalog may be shared by
// any number of threads (web handlers, boot services, their worker pool). Keep sessions short and never hold
// one across a co_await or blocking I/O: other threads wait for it. The mutex is recursive, so a nested
// session on the same thread is harmless (it shares the connection and any open transaction). Writers in
// other processes (the CLI, other servers) are tolerated through WAL and busy_timeout (SQLite) or the
// advisory lock every write transaction takes (PostgreSQL).
//
//     auto session = catalog.session();
//     auto node = session.nodes().add({.name = "pc-01", .mac = "52:54:00:12:34:56"});
//
// Several calls that must be atomic together: open a db::Transaction on session.database().
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "db/audit_repo.hpp"
#include "db/boots_repo.hpp"
#include "db/database.hpp"
#include "db/discovered_repo.hpp"
#include "db/events_repo.hpp"
#include "db/groups_repo.hpp"
#include "db/images_repo.hpp"
#include "db/leases_repo.hpp"
#include "db/nodes_repo.hpp"
#include "db/rollouts_repo.hpp"
#include "db/servers_repo.hpp"
#include "db/versions_repo.hpp"

namespace bootherd::db {

class Catalog {
  public:
    // Opens the catalog at `location` and brings its schema up to date: a "postgresql://" (or "postgres://")
    // URI connects to PostgreSQL, anything else is an SQLite file, created if missing. Throws db::Error when
    // the schema was written by a newer bootherd, CatalogUnavailable when PostgreSQL cannot be reached.
    static Catalog open(const std::string& location);
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
        Database& database() noexcept { return db_; }

        // Every file the catalog points at (version files and node disks), relative to the data directory,
        // sorted and without duplicates: whatever else is in the image store is an orphan.
        std::vector<std::string> referenced_file_paths();

      private:
        friend class Catalog;
        Session(std::recursive_mutex& mutex, Database& db) : lock_(mutex), db_(db) {}
        std::unique_lock<std::recursive_mutex> lock_;
        Database& db_;
    };

    Session session() { return Session(state_->mutex, state_->db); }

  private:
    struct State {
        explicit State(Database database) : db(std::move(database)) {}
        std::recursive_mutex mutex;
        Database db;
    };
    static Catalog open_database(const std::string& path, bool on_disk);
    explicit Catalog(std::unique_ptr<State> state) : state_(std::move(state)) {}
    std::unique_ptr<State> state_;  // stable address for sessions; keeps Catalog movable
};

}  // namespace bootherd::db
