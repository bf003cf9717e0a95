#include "tools/bootherd/cluster_service.hpp"

#include <chrono>

#include "common/log.hpp"
#include "db/api_tokens_repo.hpp"
#include "db/clock.hpp"
#include "db/users_repo.hpp"
#include "replication/version_chain.hpp"
#include "web/auth.hpp"

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
    cmd.add_option(
        "--peer-ca", o.peer_ca,
        "PEM file the other servers' HTTPS certificates are checked against (default: system store)");
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

ClusterService::ClusterService(const ClusterOptions& options, imagestore::store::ImageStore& store)
    : options_(options),
      store_(store),
      server_id_(register_server(options, store.catalog())),
      homes_({.self_id = server_id_, .heartbeat_timeout_ms = options.server_timeout_seconds * 1000LL}),
      placer_(store.catalog(), {.heartbeat_timeout_ms = options.server_timeout_seconds * 1000LL}),
      copies_(store.catalog(), store.data_dir()),
      // A peer on a loopback address is this machine: plain HTTP to it crosses no network.
      puller_(store.catalog(), {.data_dir = store.data_dir(),
                                .server_id = server_id_,
                                .peer_ca = options.peer_ca,
                                .plain_http_on_loopback = true}) {
    homes_.refresh(store.catalog(), db::now_ms());
}

void ClusterService::start(const iscsi::Server& iscsi, db::NodeSnapshot& known) {
    iscsi_ = &iscsi;
    known_ = &known;
    thread_ = std::thread([this] { run(); });
}

iscsi::LoginRouter ClusterService::login_router() {
    return [this](std::string_view, std::string_view target_name) -> std::optional<iscsi::Redirect> {
        const auto portal = homes_.confirmed_portal_elsewhere(store_.catalog(), target_name, db::now_ms());
        if (!portal) return std::nullopt;
        return iscsi::parse_portal(*portal);
    };
}

ClusterService::~ClusterService() {
    stop();
}

void ClusterService::stop() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void ClusterService::round(std::int64_t now_ms, bool heartbeat) {
    auto& catalog = store_.catalog();
    if (heartbeat) {
        const auto sessions = static_cast<std::int64_t>(iscsi_->sessions().size());
        catalog.session().servers().heartbeat(server_id_, sessions, booting_here(catalog, server_id_),
                                              now_ms);
        if (const auto recorded = copies_.verify(server_id_, now_ms); recorded > 0)
            log::info("cluster: ", recorded, " version(s) verified here and offered to placement");
        pull_missing(now_ms);
        known_->load(catalog);
    }
    homes_.refresh(catalog, now_ms);
}

const std::string& ClusterService::pull_token() {
    if (!pull_token_.empty()) return pull_token_;
    auto& catalog = store_.catalog();
    const std::string name = "replication:" + options_.server_name;
    std::int64_t user_id = 0;
    {
        auto session = catalog.session();
        const auto users = db::UsersRepo(session.database()).list();
        if (users.empty()) throw std::runtime_error("no user to own this server's replication token yet");
        user_id = users.front().id;
        db::ApiTokensRepo tokens(session.database());
        for (const auto& token : tokens.list())
            if (token.name == name) tokens.remove(token.id);
    }
    pull_token_ = web::Authenticator(catalog)
                      .create_token(user_id, name, db::kTokenScopeAdmin, std::chrono::hours(24 * 7))
                      .second;
    return pull_token_;
}

void ClusterService::pull_missing(std::int64_t now_ms) {
    for (auto running = pulls_.begin(); running != pulls_.end();) {
        if (running->second.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
            ++running;
            continue;
        }
        try {
            running->second.get();
            log::info("cluster: pulled version ", running->first, " and verified it");
        } catch (const std::exception& e) {
            log::warn("cluster: pull of version ", running->first, " failed: ", e.what());
            pull_token_.clear();  // an expired or revoked token is minted anew
        }
        running = pulls_.erase(running);
    }
    auto& catalog = store_.catalog();
    std::vector<std::int64_t> wanted;
    {
        auto session = catalog.session();
        for (const auto& image : session.images().list())
            if (image.promoted_version_id && !session.servers().holds(server_id_, *image.promoted_version_id))
                wanted.push_back(*image.promoted_version_id);
    }
    const auto alive_since = now_ms - options_.server_timeout_seconds * 1000LL;
    for (const auto version : wanted) {
        if (pulls_.contains(version)) continue;
        std::optional<db::Server> source;
        std::vector<replication::VersionFile> chain;
        {
            auto session = catalog.session();
            for (const auto& holder : session.servers().holders(version))
                if (holder.id != server_id_ && !holder.web_url.empty() && holder.heartbeat_at >= alive_since)
                    source = holder;
            if (!source) continue;  // nobody to pull from yet
            chain = replication::version_chain(session, version);
        }
        log::info("cluster: pulling version ", version, " from ", source->name);
        pulls_.emplace(version, puller_.start({.web_url = source->web_url, .bearer_token = pull_token()},
                                              std::move(chain)));
    }
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
