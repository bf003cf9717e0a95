#include "tools/bootherd/boot_service.hpp"

#include <algorithm>
#include <stdexcept>
#include <system_error>
#include <tuple>

#include "boot/arp_table.hpp"
#include "boot/boot_announcements.hpp"
#include "boot/dhcp_engine.hpp"
#include "boot/dhcp_server.hpp"
#include "boot/ipxe_script.hpp"
#include "boot/network_interface.hpp"
#include "boot/router_advertisement.hpp"
#include "boot/script_binding.hpp"
#include "boot/tftp_file_source.hpp"
#include "boot/tftp_server.hpp"
#include "common/log.hpp"
#include "db/error.hpp"
#include "imagestore/store/catalog_targets.hpp"
#include "imagestore/store/disk_usage.hpp"
#include "tools/bootherd/boot_catalog.hpp"
#include "tools/bootherd/boot_event_log.hpp"
#include "tools/bootherd/boot_session_events.hpp"
#include "tools/bootherd/cluster_service.hpp"

namespace bootherd::cli {
namespace {

constexpr std::string_view script_prefix = "boot/";
constexpr std::string_view script_suffix = ".ipxe";

boot::Ipv4 parse_ipv4(const std::string& text, std::string_view option) {
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address_v4(text, ec);
    if (ec) throw std::invalid_argument(std::string(option) + ": '" + text + "' is not an IPv4 address");
    return address;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The firmware fetches its script seconds after its DHCP exchange; a slow UEFI takes a minute at most.
constexpr auto announcement_expiry = std::chrono::minutes(2);

// Whether a node's disk has a running machine: an iSCSI session logged in to its target.
class LiveSessions final : public imagestore::store::DiskUsage {
  public:
    explicit LiveSessions(const iscsi::Server& server) : server_(server) {}
    bool has_sessions(const db::Node& node) const override {
        const auto sessions = server_.sessions();
        return std::any_of(sessions.begin(), sessions.end(),
                           [&](const iscsi::SessionInfo& s) { return s.target_iqn == node.iqn; });
    }

  private:
    const iscsi::Server& server_;
};

std::optional<boot::Ipv4> lease_of(db::Catalog& catalog, const db::Node& node) {
    std::optional<std::string> text = node.fixed_ip;
    if (!text) {
        const auto lease = catalog.session().leases().find(node.mac);
        if (lease && lease->expires_at > now_ms()) text = lease->ip;
    }
    if (!text) return std::nullopt;
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address_v4(*text, ec);
    if (ec) return std::nullopt;
    return address;
}

}  // namespace

void add_boot_service_options(CLI::App& cmd, BootServiceOptions& o) {
    cmd.add_option("--dhcp", o.dhcp, "DHCP service: off, proxy (PXE answers only) or full (addresses too)")
        ->check(CLI::IsMember({"off", "proxy", "full"}))
        ->capture_default_str();
    cmd.add_option("--interface", o.interface,
                   "Interface for DHCP, TFTP and IPv6 router advertisements (nothing is served elsewhere)");
    cmd.add_option("--dhcp-range", o.dhcp_range, "Full DHCP: address pool START-END");
    cmd.add_option("--advertise", o.advertise,
                   "Address nodes reach this server at, in boot scripts (default: the interface's)");
    cmd.add_option("--tftp-root", o.tftp_root, "TFTP root (undionly.kpxe, ipxe.efi)")->capture_default_str();
    cmd.add_option("--router", o.router, "Full DHCP: default gateway handed out");
    cmd.add_option("--dns", o.dns, "Full DHCP: DNS server handed out (repeatable)");
    cmd.add_option("--domain", o.domain, "Full DHCP: domain name handed out");
    cmd.add_option("--lease-time", o.lease_seconds, "Full DHCP: lease time in seconds")
        ->capture_default_str();
    cmd.add_flag("--discovery", o.discovery,
                 "Record unknown PXE clients as discovered; they wait and retry until enrolled");
    cmd.add_option("--auto-enrol", o.auto_enrol,
                   "Enrol unknown PXE clients at once, named by PATTERN (node-{n:03})");
    cmd.add_option("--default-group", o.default_group, "Group of auto-enrolled nodes");
    cmd.add_option("--retry-seconds", o.retry_seconds,
                   "How long a waiting machine sleeps between script fetches")
        ->capture_default_str();
    cmd.add_option("--unknown-pool-share", o.unknown_pool_share,
                   "Full DHCP: percent of the pool machines that are not enrolled may hold")
        ->check(CLI::Range(0U, 100U))
        ->capture_default_str();
    cmd.add_option("--unknown-rate", o.unknown_rate,
                   "New machines that are not enrolled served per second (bursts of twice that)")
        ->check(CLI::Range(0.0, 100000.0))
        ->capture_default_str();
    cmd.add_option("--unknown-offer-hold", o.unknown_offer_hold,
                   "Full DHCP: seconds an address offered to a machine that is not enrolled stays reserved")
        ->check(CLI::Range(1U, 3600U))
        ->capture_default_str();
    cmd.add_option("--discovered-interval", o.discovered_interval,
                   "Seconds between updates of one discovered machine's row and its DHCP events")
        ->check(CLI::Range(1U, 86400U))
        ->capture_default_str();
    cmd.add_option("--max-discovered", o.max_discovered,
                   "Discovered machines kept (the least recently seen are dropped)")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{1000000}))
        ->capture_default_str();
    cmd.add_option("--auto-enrol-rate", o.auto_enrol_rate,
                   "Auto-enrolments per second (bursts of five times that)")
        ->check(CLI::Range(0.0, 1000.0))
        ->capture_default_str();
    cmd.add_option("--auto-enrol-per-hour", o.auto_enrol_per_hour, "Auto-enrolments in any hour at most")
        ->capture_default_str();
    cmd.add_option("--tftp-max-transfers", o.tftp_max_transfers, "Concurrent TFTP transfers")
        ->check(CLI::Range(std::size_t{1}, std::size_t{65536}))
        ->capture_default_str();
    cmd.add_option("--tftp-max-per-client", o.tftp_max_per_client,
                   "Concurrent TFTP transfers per client address")
        ->check(CLI::Range(std::size_t{1}, std::size_t{65536}))
        ->capture_default_str();
    cmd.add_option("--boot-ok-window", o.boot_ok_window,
                   "Seconds a booted OS must stay up after its iSCSI login for its boot to be ok "
                   "(sooner with a health report)")
        ->check(CLI::Range(1U, 86400U))
        ->capture_default_str();
    cmd.add_option("--boot-os-login-timeout", o.boot_os_login_timeout,
                   "Seconds from a boot's start to the OS's iSCSI login; later, the boot failed")
        ->check(CLI::Range(1U, 86400U))
        ->capture_default_str();
}

boots::Thresholds boot_thresholds(const BootServiceOptions& o) {
    return boots::Thresholds{.ok_window_ms = std::int64_t{o.boot_ok_window} * 1000,
                             .os_login_timeout_ms = std::int64_t{o.boot_os_login_timeout} * 1000,
                             .pending_expiry_ms = std::chrono::milliseconds(announcement_expiry).count()};
}

BootService::BootService(const BootServiceOptions& o, ServeContext& context,
                         std::optional<std::uint16_t> http_port, boot::BootCounters& counters,
                         boots::BootTracker& tracker, rollouts::RolloutDirector& rollouts)
    : context_(context),
      http_port_(http_port),
      interface_(o.interface),
      full_dhcp_(o.dhcp == "full"),
      discovery_(o.discovery || !o.auto_enrol.empty()),
      retry_(std::max(1U, o.retry_seconds)),
      counters_(counters),
      rollouts_(rollouts),
      refusal_log_(10, std::chrono::minutes(1)) {
    if (o.dhcp != "off" && o.interface.empty())
        throw std::invalid_argument("--dhcp " + o.dhcp + " needs --interface");
    if (!o.advertise.empty()) {
        advertise_ = parse_ipv4(o.advertise, "--advertise");
    } else if (!o.interface.empty()) {
        const auto address = boot::interface_ipv4(o.interface);
        if (!address) throw std::invalid_argument("interface " + o.interface + " has no IPv4 address");
        advertise_ = address->address;
    }
    // The portal boot scripts name: the advertised address when iSCSI listens there (or everywhere).
    for (const auto& portal : context_.iscsi_portals) {
        const auto address = portal.address();
        if (address.is_unspecified() || address == boost::asio::ip::address(advertise_)) {
            iscsi_host_ = advertise_.is_unspecified() ? std::string() : advertise_.to_string();
            iscsi_port_ = portal.port();
            break;
        }
        if (iscsi_host_.empty() && address.is_v4()) {
            iscsi_host_ = address.to_string();
            iscsi_port_ = portal.port();
        }
    }
    if (iscsi_host_.empty())
        log::warn(
            "boot: no address for boot scripts (give --advertise or --interface): nodes cannot be booted");

    std::optional<std::int64_t> home_server;
    if (context_.cluster != nullptr) home_server = context_.cluster->server_id();
    events_ = std::make_unique<BootEventLog>(
        context_.store.catalog(), tracker, rollouts, [&server = context_.iscsi] { return server.sessions(); },
        home_server);
    announcements_ = std::make_unique<boot::BootAnnouncements>(*events_, announcement_expiry);
    std::optional<boot::NodeNamePattern> pattern;
    if (!o.auto_enrol.empty()) pattern.emplace(o.auto_enrol);
    enroller_ = std::make_unique<BootEnroller>(
        context_.store, std::move(pattern), o.default_group,
        DiscoveryLimits{.update_interval = std::chrono::seconds(o.discovered_interval),
                        .max_discovered = o.max_discovered,
                        .enrol_per_second = o.auto_enrol_rate,
                        .enrol_burst = 5 * o.auto_enrol_rate,
                        .max_enrol_per_hour = o.auto_enrol_per_hour});
    directory_ = std::make_unique<CatalogNodeDirectory>(context_.store, *enroller_);
    leases_ = std::make_unique<CatalogLeaseStore>(context_.store.catalog());

    if (o.dhcp != "off") start_dhcp(o);
    if (!o.interface.empty()) start_tftp(o);
}

BootService::~BootService() {
    stop();
}

void BootService::start_dhcp(const BootServiceOptions& o) {
    const auto local = boot::interface_ipv4(o.interface);
    if (!local) throw std::invalid_argument("interface " + o.interface + " has no IPv4 address");
    boot::DhcpConfig config;
    config.mode = o.dhcp == "full" ? boot::DhcpMode::full : boot::DhcpMode::proxy;
    config.server_address = local->address;
    config.advertise_address = advertise_;
    config.http_port = http_port_;
    config.discovery = discovery_;
    config.unknown.new_per_second = o.unknown_rate;
    config.unknown.burst = 2 * o.unknown_rate;
    config.unknown.pool_share_percent = o.unknown_pool_share;
    config.unknown.offer_hold = std::chrono::seconds(o.unknown_offer_hold);
    config.unknown.event_interval = std::chrono::seconds(o.discovered_interval);
    if (config.mode == boot::DhcpMode::full) {
        if (o.dhcp_range.empty()) throw std::invalid_argument("--dhcp full needs --dhcp-range START-END");
        std::tie(config.pool_first, config.pool_last) = boot::parse_ipv4_range(o.dhcp_range);
        config.subnet_mask = local->netmask;
        if (!o.router.empty()) config.router = parse_ipv4(o.router, "--router");
        for (const auto& dns : o.dns)
            config.dns_servers.push_back(parse_ipv4(dns, "--dns"));
        config.domain_name = o.domain;
        config.lease_time = std::chrono::seconds(std::max(60U, o.lease_seconds));
    }
    dhcp_engine_ = std::make_unique<boot::DhcpEngine>(config, *directory_, *leases_, *announcements_);
    boot::DhcpServerConfig server_config;
    server_config.interface = o.interface;
    server_config.share_server_port = config.mode == boot::DhcpMode::proxy;
    dhcp_server_ =
        std::make_unique<boot::DhcpServer>(dhcp_io_.get_executor(), server_config, *dhcp_engine_, &counters_);
    dhcp_server_->start();
    try {
        ra_responder_ =
            std::make_unique<boot::RouterAdvertisementResponder>(dhcp_io_.get_executor(), o.interface);
        ra_responder_->start();
    } catch (const std::exception& e) {  // Asio's boost::system::system_error is no std::system_error
        log::warn("boot: no IPv6 router advertisements on ", o.interface, " (", e.what(),
                  "): iPXE will wait ~13 s for them");
        ra_responder_.reset();
    }
    log::info("dhcp: ", o.dhcp, " mode on ", o.interface, ", iPXE scripts from ",
              http_port_ ? "the web service" : "TFTP");
    dhcp_thread_ = std::thread([this] { dhcp_io_.run(); });
}

void BootService::start_tftp(const BootServiceOptions& o) {
    // The requested names cannot leave the root (no ".."), but Debian's ipxe.efi there is a symlink to /boot.
    tftp_source_ =
        std::make_unique<boot::TftpFileSource>(o.tftp_root, boot::TftpFileSource::Symlinks::trusted);
    tftp_source_->add_generator(std::string(script_prefix),
                                [this](std::string_view path, const boost::asio::ip::address& client) {
                                    return tftp_script(path, client);
                                });
    boot::TftpServerConfig config;
    config.interface = o.interface;
    config.max_transfers = o.tftp_max_transfers;
    config.max_transfers_per_client = o.tftp_max_per_client;
    tftp_server_ = std::make_unique<boot::TftpServer>(
        tftp_io_.get_executor(), config, *tftp_source_, events_.get(),
        [](boot::Ipv4 address) { return boot::lookup_arp_table(address); }, &counters_);
    tftp_server_->start();
    log::info("tftp: serving ", tftp_source_->root().string(), " and boot/<mac>.ipxe on ", o.interface,
              " port ", tftp_server_->local_port());
    tftp_thread_ = std::thread([this] { tftp_io_.run(); });
}

void BootService::record_session_events(SessionEventRelay& relay) {
    session_events_ = &relay;
    relay.attach([log = events_.get()](const iscsi::SessionEvent& event) { log->record_session(event); });
    events_->track_sessions();
}

void BootService::stop() {
    if (stopped_) return;
    stopped_ = true;
    if (session_events_) session_events_->detach();
    dhcp_io_.stop();
    tftp_io_.stop();
    if (dhcp_thread_.joinable()) dhcp_thread_.join();
    if (tftp_thread_.joinable()) tftp_thread_.join();
    if (dhcp_server_) dhcp_server_->stop();
    if (ra_responder_) ra_responder_->stop();
    if (tftp_server_) tftp_server_->stop();
    events_->stop();
}

std::string BootService::script_url(const boot::MacAddress& mac) const {
    return boot::default_script_url(advertise_, http_port_, mac);
}

boot::TftpOpenResult BootService::tftp_script(std::string_view path, const boost::asio::ip::address& client) {
    if (path.starts_with(script_prefix) && path.ends_with(script_suffix)) {
        path.remove_prefix(script_prefix.size());
        path.remove_suffix(script_suffix.size());
        auto reply = boot_script(path, client);
        if (reply.status == web::BootScriptReply::Status::ok)
            return boot::tftp_in_memory(std::move(reply.script));
        if (reply.status == web::BootScriptReply::Status::forbidden)
            return {nullptr, boot::TftpErrorCode::access_violation, "not for this address"};
    }
    return {nullptr, boot::TftpErrorCode::file_not_found, "file not found"};
}

web::BootScriptReply BootService::boot_script(std::string_view mac_text,
                                              const boost::asio::ip::address& client) {
    using Status = web::BootScriptReply::Status;
    const auto mac = boot::MacAddress::parse(mac_text);
    if (!mac) return {};
    const std::string from = client.to_string();
    const auto now = std::chrono::system_clock::now();
    try {
        auto node = context_.store.catalog().session().nodes().find_by_mac(mac->to_string());
        if (!node && enroller_->auto_enrols()) node = enroller_->enrol(*mac);
        if (!node) {
            if (!discovery_) {
                log::info("boot: no script for unknown machine ", mac->to_string(), " (discovery is off)");
                return {};
            }
            enroller_->record_discovered(*mac, "", "");
            events_->record(*mac, "script fetched", "not enrolled: waiting, from " + from, now);
            counters_.boot_scripts.fetch_add(1, std::memory_order_relaxed);
            return {Status::ok,
                    boot::render_wait_script("this machine (" + mac->to_string() + ") is not enrolled yet",
                                             script_url(*mac), retry_)};
        }
        if (!node->enabled) {
            counters_.boot_scripts.fetch_add(1, std::memory_order_relaxed);
            events_->record(*mac, "script fetched", "node disabled: local boot, from " + from, now);
            return {Status::ok, boot::render_local_boot_script()};
        }
        return bound_node_script(*mac, *node, client);
    } catch (const db::CatalogUnavailable& e) {
        return known_node_script(*mac, client, e.what());
    } catch (const std::exception& e) {
        log::error("boot: script for ", mac->to_string(), " failed: ", e.what());
        return {Status::ok,
                boot::render_wait_script("the server could not prepare this boot", script_url(*mac), retry_)};
    }
}

web::BootScriptReply BootService::bound_node_script(const boot::MacAddress& mac, const db::Node& node,
                                                    const boost::asio::ip::address& client) {
    using Status = web::BootScriptReply::Status;
    const auto now = std::chrono::system_clock::now();
    if (node.effective_bind_address) {
        const auto binding =
            boot::bind_script_client(full_dhcp_ ? boot::DhcpMode::full : boot::DhcpMode::proxy, mac, client,
                                     full_dhcp_ ? lease_of(context_.store.catalog(), node) : std::nullopt,
                                     [](boot::Ipv4 address) { return boot::lookup_arp_table(address); });
        if (!binding.bound) {
            const std::string why =
                "script of node " + node.name + " refused to " + client.to_string() + ": " + binding.refusal;
            {
                const std::lock_guard lock(refusal_log_mutex_);
                refusal_log_.warn("boot: " + why, std::chrono::steady_clock::now());
            }
            events_->record(mac, "script refused", why, now);
            return {Status::forbidden, {}};
        }
        context_.store.catalog().session().nodes().set_boot_address(node.id, binding.bound->to_string(),
                                                                    now_ms());
    }
    counters_.boot_scripts.fetch_add(1, std::memory_order_relaxed);
    return {Status::ok, node_script(mac, node.id, client.to_string())};
}

web::BootScriptReply BootService::known_node_script(const boot::MacAddress& mac,
                                                    const boost::asio::ip::address& client,
                                                    std::string_view why) {
    using Status = web::BootScriptReply::Status;
    const auto node = context_.known_nodes.by_mac(mac.to_string());
    const bool homed_here =
        node && (context_.cluster == nullptr || node->home_server_id == context_.cluster->server_id());
    const auto now = std::chrono::system_clock::now();
    {
        const std::lock_guard lock(refusal_log_mutex_);
        refusal_log_.warn("boot: the catalog is unreachable (" + std::string(why) + "): the script of " +
                              mac.to_string() + " goes by what this server last read",
                          std::chrono::steady_clock::now());
    }
    const char* wait = !node              ? "not known to this server"
                       : !homed_here      ? "homed on another server"
                       : !node->enabled   ? "disabled"
                       : !node->disk_path ? "without a disk yet"
                                          : nullptr;
    if (wait != nullptr) {
        events_->record(
            mac, "script fetched",
            std::string("catalog unreachable, machine ") + wait + ": waiting, from " + client.to_string(),
            now);
        return {Status::ok,
                boot::render_wait_script("the server cannot reach its catalog", script_url(mac), retry_)};
    }
    // No new binding can be recorded: only the address the node was last bound to, still tied to its MAC.
    if (node->effective_bind_address) {
        const auto binding = boot::bind_script_client(boot::DhcpMode::proxy, mac, client, std::nullopt,
                                                      [](boot::Ipv4 a) { return boot::lookup_arp_table(a); });
        if (!binding.bound ||
            boost::asio::ip::address(*binding.bound) != imagestore::store::bound_address(*node)) {
            events_->record(mac, "script refused",
                            "catalog unreachable: script of node " + node->name + " refused to " +
                                client.to_string() + ", not its last boot address",
                            now);
            return {Status::forbidden, {}};
        }
    }
    // Its disk as last read: a non-persistent machine's disk is renewed at its next boot with the catalog.
    counters_.boot_scripts.fetch_add(1, std::memory_order_relaxed);
    events_->record_boot_script(mac,
                                "node " + node->name + " disk " + *node->disk_path +
                                    " (catalog unreachable: as last read), from " + client.to_string(),
                                now);
    log::info("boot: ", node->name, " (", mac.to_string(), ") boots ", *node->disk_path, " via ",
              client.to_string(), " from what this server last read (catalog unreachable)");
    return {Status::ok, sanboot_script(*node)};
}

std::string BootService::node_script(const boot::MacAddress& mac, std::int64_t node_id,
                                     const std::string& from) {
    // A new boot: a persistent node gets its disk if it has none, a non-persistent one a fresh disk unless a
    // running machine may be using it (see ImageStore::begin_boot).
    const auto start = announcements_->take(mac, std::chrono::system_clock::now())
                           ? imagestore::store::BootStart::announced
                           : imagestore::store::BootStart::unannounced;
    // A maintenance machine boots its image's draft; its own disk is left as it is.
    const db::Node enrolled = context_.store.catalog().session().nodes().get(node_id);
    if (auto maintenance = context_.store.maintenance_of(enrolled))
        return maintenance_script(mac, *maintenance, from);
    // A machine in an image rollout's current or passed stage may get the rollout's new version.
    const auto version = rollouts_.version_for_boot(node_id, now_ms());
    if (context_.cluster != nullptr) {
        if (auto script = placed_script(mac, enrolled, version, from)) return *script;
    }
    db::Node node = [&] {
        const std::lock_guard lock(begin_boot_mutex_);
        return context_.store.begin_boot(node_id, start, LiveSessions(context_.iscsi), version);
    }();
    const auto now = std::chrono::system_clock::now();
    if (!node.disk_path) {
        events_->record(mac, "script fetched", "node " + node.name + " has no image: waiting, from " + from,
                        now);
        return boot::render_wait_script("node " + node.name + " has no image to boot yet", script_url(mac),
                                        retry_);
    }
    context_.store.catalog().session().nodes().record_boot(node.id, "booting", now_ms());
    context_.known_nodes.remember(node);
    events_->record_boot_script(mac, "node " + node.name + " disk " + *node.disk_path + ", from " + from,
                                now);
    log::info("boot: ", node.name, " (", mac.to_string(), ") boots ", *node.disk_path, " via ", from);
    return sanboot_script(node);
}

std::string BootService::sanboot_script(const db::Node& node) const {
    return boot::render_sanboot_script(
        boot::SanbootScript{.server = iscsi_host_,
                            .port = iscsi_port_,
                            .target_iqn = node.iqn,
                            .initiator_iqn = imagestore::store::node_initiator_iqn(node),
                            .chap_user = node.chap_user,
                            .chap_secret = node.chap_secret,
                            .hostname = node.effective_hostname.value_or("")});
}

std::optional<std::string> BootService::placed_script(const boot::MacAddress& mac, const db::Node& node,
                                                      std::optional<std::int64_t> version,
                                                      const std::string& from) {
    if (!version && node.effective_image_id)
        version =
            context_.store.catalog().session().images().get(*node.effective_image_id).promoted_version_id;
    if (!version) return std::nullopt;  // no image to boot: said as a single server says it
    auto& cluster = *context_.cluster;
    const auto placement = cluster.placer().place(node.id, *version, now_ms());
    const auto now = std::chrono::system_clock::now();
    if (!placement) {
        events_->record(mac, "script fetched",
                        "node " + node.name +
                            ": no server may take it now (each is at its booting cap, or "
                            "none holds its version): waiting, from " +
                            from,
                        now);
        return boot::render_wait_script("every server is busy booting other machines", script_url(mac),
                                        retry_);
    }
    if (placement->server_id == cluster.server_id()) {
        cluster.homes().note(node.iqn, std::nullopt);
        return std::nullopt;
    }
    const auto home = context_.store.catalog().session().servers().find(placement->server_id);
    if (!home) throw std::runtime_error("the server placement chose is no longer registered");
    cluster.homes().note(node.iqn, home->iscsi_portal);
    if (!node.effective_persistent) context_.store.disk_made_elsewhere(node.id, *version);
    context_.store.catalog().session().nodes().record_boot(node.id, "booting", now_ms());
    const std::string where = home->name + " (" + home->iscsi_portal + ")";
    events_->record_boot_script(mac, "node " + node.name + " homed on " + where + ", from " + from, now);
    log::info("boot: ", node.name, " (", mac.to_string(), ") is homed on ", where, ": its login goes there");
    // The script names this server; its login here is redirected to the home (iPXE then records the home
    // in the iBFT, so the booted OS logs in there directly).
    return sanboot_script(node);
}

std::string BootService::maintenance_script(const boot::MacAddress& mac,
                                            const imagestore::store::Maintenance& maintenance,
                                            const std::string& from) {
    const auto& node = maintenance.node;
    const auto& draft = maintenance.draft;
    if (!draft.chap_user || !draft.chap_secret)
        throw std::runtime_error("the draft of image " + maintenance.image + " has no CHAP credentials");
    context_.store.catalog().session().nodes().record_boot(node.id, "booting", now_ms());
    const std::string what = "maintenance of image " + maintenance.image + ": draft v" +
                             std::to_string(draft.number) + " as " +
                             imagestore::store::draft_iqn(maintenance.image);
    // A boot like any other (its record carries the draft's version: see BootTracker).
    events_->record_boot_script(mac, "node " + node.name + " " + what + ", from " + from,
                                std::chrono::system_clock::now());
    log::info("boot: ", node.name, " (", mac.to_string(), ") boots the ", what, " via ", from);
    return boot::render_sanboot_script(
        boot::SanbootScript{.server = iscsi_host_,
                            .port = iscsi_port_,
                            .target_iqn = imagestore::store::draft_iqn(maintenance.image),
                            .initiator_iqn = imagestore::store::node_initiator_iqn(node),
                            .chap_user = *draft.chap_user,
                            .chap_secret = *draft.chap_secret});
}

}  // namespace bootherd::cli
