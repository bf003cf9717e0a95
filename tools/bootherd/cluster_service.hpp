#pragma once
// `serve` as one of several servers on a shared catalog (docs/SCALE-OUT.md), on when --server-name is given:
// registers this server, then on a thread of its own heartbeats its load, rereads where machines are homed
// (the login router answers from that), verifies the copies of sealed versions it holds and pulls the
// promoted versions it lacks from a live server that holds them. Nothing here runs on a network thread, and a
// catalog that cannot be reached only delays the next round.
#include <CLI/CLI.hpp>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "db/node_snapshot.hpp"
#include "imagestore/store/image_store.hpp"
#include "placement/home_placer.hpp"
#include "placement/home_table.hpp"
#include "replication/local_copies.hpp"
#include "replication/version_puller.hpp"
#include "target/iscsi/redirect.hpp"
#include "target/iscsi/server.hpp"

namespace bootherd::cli {

struct ClusterOptions {
    std::string server_name;  // empty: a single server, none of this runs
    std::string portal;       // "ip:port" other servers redirect this server's machines to
    std::string web_url;      // where other servers pull versions from (this web service)
    std::string peer_ca;      // PEM file other servers' certificates are checked against; empty: system store
    std::int64_t capacity = 100;
    std::int64_t max_booting = 0;
    unsigned heartbeat_seconds = 5;
    unsigned server_timeout_seconds = 30;  // a server silent for longer takes no machines
};

void add_cluster_options(CLI::App& serve_cmd, ClusterOptions& options);

class ClusterService {
  public:
    // Registers the server (throws when the catalog refuses it: serve does not start half-registered) and
    // reads the homes once. `options.portal` must be set.
    ClusterService(const ClusterOptions& options, imagestore::store::ImageStore& store);
    ~ClusterService();
    ClusterService(const ClusterService&) = delete;
    ClusterService& operator=(const ClusterService&) = delete;

    // Starts the rounds; `iscsi` (its live sessions are the load) must outlive this service.
    // `known` (reloaded at each heartbeat, so that machines homed here boot while the catalog is
    // unreachable) must outlive this service too.
    void start(const iscsi::Server& iscsi, db::NodeSnapshot& known);
    // Ends the rounds (before the iSCSI server stops); the router keeps answering from the last snapshot.
    void stop();
    // For the iSCSI server: a login for a machine homed on another live server goes there.
    iscsi::LoginRouter login_router();

    std::int64_t server_id() const noexcept { return server_id_; }
    placement::HomeTable& homes() noexcept { return homes_; }
    placement::HomePlacer& placer() noexcept { return placer_; }

  private:
    void run();
    void round(std::int64_t now_ms, bool heartbeat);
    // Starts pulls of the promoted versions this server lacks; reports the pulls that ended.
    void pull_missing(std::int64_t now_ms);
    const std::string& pull_token();

    ClusterOptions options_;
    imagestore::store::ImageStore& store_;
    const iscsi::Server* iscsi_ = nullptr;
    db::NodeSnapshot* known_ = nullptr;
    std::int64_t server_id_ = 0;
    placement::HomeTable homes_;
    placement::HomePlacer placer_;
    replication::LocalCopies copies_;
    replication::VersionPuller puller_;
    std::string pull_token_;  // an admin token of the shared catalog, minted when first needed; never logged
    std::map<std::int64_t, std::shared_future<void>> pulls_;  // running, by version
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace bootherd::cli
