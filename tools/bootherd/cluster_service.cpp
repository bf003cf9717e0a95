#include "tools/bootherd/cluster_service.hpp"

#include <chrono>

#include "common/log.hpp"
#include "db/clock.hpp"

namespace bootherd::cli {
namespace {

// How often the homes are reread: a machine placed by another server is redirected here, not bounced back,
// once this server has reread them.
constexpr auto kHomesInterval = std::chrono::seconds(1);

std::int64_t booting_here(db::Catalog& catalog, std::int64_t server_id) {
    auto session = catalog.session();
    auto query = session.database().prepare(
        "SELECT count(*) FROM nodes WHERE home_server_id = ? AND state = 'booting'");
    query->bind_all(server_id);
    query->step();
    return query->int64(0);
}

std::int64_t register_server(const ClusterOptions& options, db::Catalog& catalog) {
    const auto server = catalog.session().servers().register_server({.name = options.server_name,
                                                                     .iscsi_portal = options.portal,
                                                                     .web_url = options.web_url,
                                                                     .capacity = options.capacity,
                                                                     .max_booting = options.max_booting},
                                                                    db::now_ms());
    log::info("cluster: server ", server.name, " (id ", server.id, ") on ", server.iscsi_portal,
              ", capacity ", server.capacity);
    return server.id;
}

}  // namespace

void add_cluster_options(CLI::App& cmd, ClusterOptions& o) {
    cmd.add_option("--server-name", o.server_name,
                   "Join the servers sharing this catalog under this name (default: serve alone)");
    cmd.add_option(
        "--server-portal", o.portal,
        "ADDR:PORT other servers redirect this server's machines to (default: the first --listen)");
    cmd.add_option("--server-url", o.web_url,
                   "URL other servers pull image versions from (this web service)");
    cmd.add_option("--capacity", o.capacity, "Placement weight against the other servers")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1'000'000}))
        ->capture_default_str();
    cmd.add_option("--max-booting", o.max_booting, "Machines booting here at once, at most (0: no cap)")
        ->check(CLI::Range(std::int64_t{0}, std::int64_t{1'000'000}))
        ->capture_default_str();
    cmd.add_option("--heartbeat-seconds", o.heartbeat_seconds, "Seconds between heartbeats")
        ->check(CLI::Range(1u, 3600u))
        ->capture_default_str();
    cmd.add_option("--server-timeout-seconds", o.server_timeout_seconds,
                   "Seconds without a heartbeat after which a server takes no machines")
        ->check(CLI::Range(2u, 86400u))
        ->capture_default_str();
}

ClusterService::ClusterService(const ClusterOptions& options, ServeContext& context)
    : options_(options),
      context_(context),
      server_id_(register_server(options, context.store.catalog())),
      homes_({.self_id = server_id_, .heartbeat_timeout_ms = options.server_timeout_seconds * 1000LL}),
      placer_(context.store.catalog(), {.heartbeat_timeout_ms = options.server_timeout_seconds * 1000LL}),
      copies_(context.store.catalog(), context.store.data_dir()),
      thread_([this] { run(); }) {}

ClusterService::~ClusterService() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void ClusterService::round(std::int64_t now_ms, bool heartbeat) {
    auto& catalog = context_.store.catalog();
    if (heartbeat) {
        const auto sessions = static_cast<std::int64_t>(context_.iscsi.sessions().size());
        catalog.session().servers().heartbeat(server_id_, sessions, booting_here(catalog, server_id_),
                                              now_ms);
        if (const auto recorded = copies_.verify(server_id_, now_ms); recorded > 0)
            log::info("cluster: ", recorded, " version(s) verified here and offered to placement");
    }
    homes_.refresh(catalog, now_ms);
}

void ClusterService::run() {
    auto next_heartbeat = std::chrono::steady_clock::now();
    bool failing = false;
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        lock.unlock();
        const auto now = std::chrono::steady_clock::now();
        const bool heartbeat = now >= next_heartbeat;
        try {
            round(db::now_ms(), heartbeat);
            if (heartbeat) next_heartbeat = now + std::chrono::seconds(options_.heartbeat_seconds);
            if (failing) log::info("cluster: the catalog answers again");
            failing = false;
        } catch (const std::exception& e) {
            // Machines homed here keep booting from what this server knows; the next round retries.
            if (!failing) log::warn("cluster: catalog round failed: ", e.what());
            failing = true;
        }
        lock.lock();
        wake_.wait_for(lock, kHomesInterval, [this] { return stopping_; });
    }
}

}  // namespace bootherd::cli
