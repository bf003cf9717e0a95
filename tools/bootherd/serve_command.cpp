// `bootherd serve`: every node's disk and every image draft as iSCSI targets, from the catalog.
#include <atomic>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "boot/network_interface.hpp"
#include "common/log.hpp"
#include "db/clock.hpp"
#include "imagestore/store/catalog_targets.hpp"
#include "imagestore/store/image_store.hpp"
#include "rollouts/rollout_director.hpp"
#include "rollouts/webhook.hpp"
#include "tools/bootherd/boot_service.hpp"
#include "tools/bootherd/boot_session_events.hpp"
#include "tools/bootherd/cluster_service.hpp"
#include "tools/bootherd/commands.hpp"
#include "tools/bootherd/descriptor_limit.hpp"
#include "tools/bootherd/endpoint.hpp"
#include "tools/bootherd/iscsi_service.hpp"
#include "tools/bootherd/retention_service.hpp"
#include "tools/bootherd/serve_context.hpp"
#include "tools/bootherd/serve_lock.hpp"
#include "tools/bootherd/service_notifier.hpp"
#include "tools/bootherd/signals.hpp"
#include "tools/bootherd/store_options.hpp"
#include "tools/bootherd/web_service.hpp"

namespace bootherd::cli {
namespace {

struct ServeOptions {
    std::string data = kDefaultDataDir;
    std::string catalog{};
    std::string import_dir;  // empty: <data>/import
    std::vector<std::string> listen{"0.0.0.0:3260"};
    unsigned threads = 0;
    IscsiLimits limits{};
    WebServiceOptions web{};
    BootServiceOptions boot{};
    RetentionOptions retention{};
    ClusterOptions cluster{};
};

// What GET /api/v1/server tells of this serve's configuration.
web::ServerFacts server_facts(const ServeOptions& o) {
    web::ServerFacts facts;
    facts.started_at = db::now_ms();
    facts.dhcp.mode = o.boot.dhcp;
    facts.dhcp.interface = o.boot.interface;
    facts.heartbeat_timeout_ms = o.cluster.server_timeout_seconds * 1000LL;
    if (o.boot.dhcp == "full") {
        try {
            const auto [first, last] = boot::parse_ipv4_range(o.boot.dhcp_range);
            facts.dhcp.range = web::DhcpFacts::Range{first.to_string(), last.to_string()};
        } catch (const std::exception&) {
            // The boot service refuses the range, saying why, before anything is served.
        }
    }
    return facts;
}

// "ip:port", IPv6 in brackets: how TargetAddress names a portal.
std::string portal_text(const boost::asio::ip::tcp::endpoint& endpoint) {
    const auto address = endpoint.address();
    const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
    return host + ":" + std::to_string(endpoint.port());
}

// The cluster options with the portal other servers redirect to: --server-portal, else the first --listen
// when that is an address machines can reach.
ClusterOptions cluster_options(const ServeOptions& o) {
    auto options = o.cluster;
    if (!options.portal.empty()) return options;
    const auto first = parse_endpoint(o.listen.front(), 3260);
    if (first.address().is_unspecified() || first.port() == 0)
        throw std::invalid_argument("--server-portal is needed: the first --listen (" + o.listen.front() +
                                    ") is no address another server can send machines to");
    options.portal = portal_text(first);
    return options;
}

int run_serve(const ServeOptions& o) {
    const auto facts = server_facts(o);
    ShutdownSignals signals;  // before any thread starts, so all of them inherit the blocked mask
    raise_descriptor_limit();

    const ServeLock lock(o.data);  // before the store touches anything there
    imagestore::store::ImageStore store(o.data, o.import_dir, o.catalog, o.cluster.server_name);
    db::NodeSnapshot known_nodes;  // what logins and boot scripts go by while the catalog is unreachable
    known_nodes.load(store.catalog());
    auto targets = std::make_shared<imagestore::store::CatalogTargets>(store, known_nodes);

    std::optional<ClusterService> cluster;  // before the iSCSI server, which asks it where logins go
    if (!o.cluster.server_name.empty()) cluster.emplace(cluster_options(o), store);

    const std::string what =
        std::to_string(targets->all().size()) + " target(s) from " + store.data_dir().string();
    SessionEventRelay session_events;  // iSCSI logins and first reads become boot events once boot runs
    IscsiService iscsi(o.listen, o.threads, o.limits, targets, what, session_events.callback(),
                       cluster ? cluster->login_router() : iscsi::LoginRouter{});
    ServeContext context{store, iscsi.server(), iscsi.endpoints(), known_nodes};
    if (cluster) {
        cluster->start(iscsi.server(), known_nodes);
        context.cluster = &*cluster;
    }

    // The web service serves the boot scripts and DHCP hands out the web service's port, so the web service
    // starts first, answering /boot/ once the boot services run.
    boot::BootCounters boot_counters;
    boots::BootTracker boot_tracker(store.catalog(), boot_thresholds(o.boot));
    rollouts::WebhookSender webhooks;  // outlives the director, whose halts and successes it sends
    rollouts::RolloutDirector rollout_director(
        store.catalog(), boot_tracker.thresholds(),
        [&webhooks](const db::Rollout& rollout, std::string_view kind) { webhooks.notify(rollout, kind); });
    std::atomic<BootService*> boot_scripts{nullptr};
    WebService web(
        o.web, context, o.catalog,
        [&boot_scripts](std::string_view mac, const boost::asio::ip::address& client) {
            auto* boot = boot_scripts.load();
            return boot ? boot->boot_script(mac, client) : web::BootScriptReply{};
        },
        &boot_counters, &boot_tracker, facts);
    std::optional<std::uint16_t> http_port;
    if (web.port() != 0) http_port = web.port();
    BootService boot(o.boot, context, http_port, boot_counters, boot_tracker, rollout_director);
    RetentionService retention(store.catalog(), retention_policy(o.retention));
    boot.record_session_events(session_events);
    boot_scripts.store(&boot);
    ServiceNotifier systemd;
    systemd.ready("serving " + what);

    // Services start after what they depend on and stop before it.
    log::info("signal ", signals.wait(), ": stopping");
    systemd.stopping();
    web.stop();
    boot_scripts.store(nullptr);
    boot.stop();
    if (cluster) cluster->stop();
    if (!iscsi.stop()) {
        log::error("stopped, but the final flush of a disk failed: its recent writes may be lost");
        return 1;
    }
    log::info("stopped");
    return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, Action& action) {
    auto o = std::make_shared<ServeOptions>();
    auto* cmd = app.add_subcommand("serve", "Serve every node's disk (and each image draft) over iSCSI");
    add_data_option(*cmd, o->data, o->catalog, DataDirUse::create);
    cmd->add_option("--listen", o->listen, "ADDR:PORT to listen on (repeatable)")->capture_default_str();
    cmd->add_option("--import-dir", o->import_dir,
                    "The only directory the REST API may import image files from (default: DATA/import)");
    cmd->add_option("--threads", o->threads, "Network threads (default: one per core)");
    add_iscsi_limit_options(*cmd, o->limits);
    add_web_service_options(*cmd, o->web);
    add_boot_service_options(*cmd, o->boot);
    add_retention_options(*cmd, o->retention);
    add_cluster_options(*cmd, o->cluster);
    cmd->callback([o, &action] { action = [o] { return run_serve(*o); }; });
}

}  // namespace bootherd::cli
