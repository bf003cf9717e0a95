#pragma once
// The boot services of `bootherd serve`: DHCP (off, ProxyDHCP or full), TFTP (iPXE binaries, and each node's
// boot script as boot/<mac>.ipxe), IPv6 router advertisements for iPXE, and the per-node iPXE script the web
// service also serves as GET /boot/{mac}.ipxe. DHCP (with the RA responder) and TFTP each run on a thread of
// their own, and boot events are written to the catalog by a third, so a slow catalog or disk creation never
// holds up another client's packets for long.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "boot/boot_counters.hpp"
#include "boot/dhcp_packet.hpp"
#include "boot/tftp_file_source.hpp"
#include "boots/boot_tracker.hpp"
#include "common/rate_limited_log.hpp"
#include "rollouts/rollout_director.hpp"
#include "tools/bootherd/serve_context.hpp"
#include "web/api/api_context.hpp"

namespace bootherd::boot {
class BootAnnouncements;
class DhcpEngine;
class DhcpServer;
class RouterAdvertisementResponder;
class TftpServer;
}  // namespace bootherd::boot

namespace bootherd::cli {

class BootEnroller;
class BootEventLog;
class CatalogLeaseStore;
class CatalogNodeDirectory;
class SessionEventRelay;

struct BootServiceOptions {
    std::string dhcp = "off";  // off | proxy | full
    std::string interface;     // the only interface DHCP, TFTP and RA serve
    std::string dhcp_range;    // full mode: START-END
    std::string advertise;     // address nodes reach this server at (default: the interface's)
    std::string tftp_root = "/usr/lib/ipxe";
    std::string router;
    std::vector<std::string> dns;
    std::string domain;
    unsigned lease_seconds = 3600;
    bool discovery = false;
    std::string auto_enrol;     // naming pattern, e.g. node-{n:03}; empty: off
    std::string default_group;  // group of auto-enrolled nodes
    unsigned retry_seconds = 10;
    // Bounds on machines nobody enrolled, so floods cannot starve enrolled machines.
    unsigned unknown_pool_share = 25;    // percent of the full-mode pool they may hold
    double unknown_rate = 10;            // new unknown MACs served per second (burst: twice that)
    unsigned unknown_offer_hold = 15;    // seconds an unanswered offer to one of them is kept
    unsigned discovered_interval = 60;   // seconds between writes of one MAC's discovered row / events
    std::int64_t max_discovered = 1000;  // discovered rows kept
    double auto_enrol_rate = 2;          // auto-enrolments per second (burst: five times that)
    std::size_t auto_enrol_per_hour = 200;
    std::size_t tftp_max_transfers = 512;
    std::size_t tftp_max_per_client = 4;  // concurrent transfers per client address
    // Boot outcomes (boots/boot_outcome.hpp).
    unsigned boot_ok_window = 120;         // seconds the OS must stay up after its login for ok
    unsigned boot_os_login_timeout = 300;  // seconds from a boot's start to its OS login, else failed
};

// The outcome thresholds the options set.
boots::Thresholds boot_thresholds(const BootServiceOptions& options);

void add_boot_service_options(CLI::App& serve_cmd, BootServiceOptions& options);

class BootService {
  public:
    // Starts what the options ask for (nothing but scripts with --dhcp off and no --interface). `http_port`:
    // the web service's port, used in the script URLs DHCP hands out; nullopt: scripts go over TFTP.
    // `counters` (read by the web service's /metrics), `tracker` (which records each boot) and `rollouts`
    // (which picks the version of a rollout's machines) must outlive the service.
    // Throws std::invalid_argument for bad options, std::system_error when a socket cannot be bound.
    BootService(const BootServiceOptions& options, ServeContext& context,
                std::optional<std::uint16_t> http_port, boot::BootCounters& counters,
                boots::BootTracker& tracker, rollouts::RolloutDirector& rollouts);
    ~BootService();
    BootService(const BootService&) = delete;
    BootService& operator=(const BootService&) = delete;

    void stop();
    boot::BootCounters& counters() { return counters_; }
    // Records the iSCSI server's session events (firmware/OS login, first read) as boot events until stop().
    void record_session_events(SessionEventRelay& relay);

    // The iPXE script for the machine with MAC `mac_text` (colons or dashes, any case), fetched from
    // `client`: an enrolled node's sanboot script, `exit` for a disabled node, the wait-and-retry script for
    // a machine that is not enrolled (or has no image yet) when discovery or auto-enrolment is on. unknown:
    // not a MAC, or an unknown machine with discovery off.
    //
    // A node with address binding on gets its sanboot script (its secrets) only at the address the server
    // ties to its MAC (boot::bind_script_client), which is then recorded as its boot address, the only one
    // its target admits logins from; any other client is forbidden, logged (rate-limited) and recorded as a
    // boot event. Serving the script prepares the boot: a persistent node's disk is made if it has none; a
    // non-persistent node gets a fresh disk unless a session is open on its target and its firmware
    // announced no new boot (see imagestore::store::BootStart): fetching a script never replaces the disk of
    // a running machine. A node that is an image's maintenance machine (imagestore::store::ImageStore::
    // maintain) gets the sanboot script of that image's draft instead, and its own disk stays as it is.
    // Thread-safe; blocks while the disk is prepared.
    web::BootScriptReply boot_script(std::string_view mac_text, const boost::asio::ip::address& client);

  private:
    void start_dhcp(const BootServiceOptions& options);
    void start_tftp(const BootServiceOptions& options);
    boot::TftpOpenResult tftp_script(std::string_view path, const boost::asio::ip::address& client);
    std::string script_url(const boot::MacAddress& mac) const;
    // The node's script if `client` may have it (binding), else forbidden.
    web::BootScriptReply bound_node_script(const boot::MacAddress& mac, const db::Node& node,
                                           const boost::asio::ip::address& client);
    std::string node_script(const boot::MacAddress& mac, std::int64_t node_id, const std::string& from);
    // While the catalog is unreachable (`why`): the sanboot script of a node homed here as last read
    // (context.known_nodes), at its last boot address when bound; else the wait-and-retry script.
    web::BootScriptReply known_node_script(const boot::MacAddress& mac,
                                           const boost::asio::ip::address& client, std::string_view why);
    // The sanboot script of the node's own disk, naming this server's portal.
    std::string sanboot_script(const db::Node& node) const;
    // With several servers: homes the node for this boot (placement::HomePlacer). nullopt when it is homed
    // here (the caller prepares its disk as a single server does); else the script for a machine homed
    // elsewhere (its login is redirected there, where its disk is made) or, when every server is at its
    // booting cap, a wait-and-retry script.
    std::optional<std::string> placed_script(const boot::MacAddress& mac, const db::Node& node,
                                             std::optional<std::int64_t> version, const std::string& from);
    // The sanboot script of a maintenance machine: the draft's target with the draft's credentials.
    std::string maintenance_script(const boot::MacAddress& mac,
                                   const imagestore::store::Maintenance& maintenance,
                                   const std::string& from);

    ServeContext& context_;
    std::optional<std::uint16_t> http_port_;
    std::string interface_;
    bool full_dhcp_ = false;
    boot::Ipv4 advertise_;
    std::uint16_t iscsi_port_ = 3260;
    std::string iscsi_host_;
    bool discovery_ = false;
    std::chrono::seconds retry_;
    boot::BootCounters& counters_;

    std::mutex begin_boot_mutex_;  // one disk preparation at a time (TFTP and web may ask together)
    rollouts::RolloutDirector& rollouts_;
    std::unique_ptr<BootEventLog> events_;
    std::unique_ptr<boot::BootAnnouncements> announcements_;  // DHCP events pass through it to events_
    std::mutex refusal_log_mutex_;
    RateLimitedLog refusal_log_;
    std::unique_ptr<BootEnroller> enroller_;
    std::unique_ptr<CatalogNodeDirectory> directory_;
    std::unique_ptr<CatalogLeaseStore> leases_;

    boost::asio::io_context dhcp_io_;
    std::unique_ptr<boot::DhcpEngine> dhcp_engine_;
    std::unique_ptr<boot::DhcpServer> dhcp_server_;
    std::unique_ptr<boot::RouterAdvertisementResponder> ra_responder_;
    std::thread dhcp_thread_;

    boost::asio::io_context tftp_io_;
    std::unique_ptr<boot::TftpFileSource> tftp_source_;
    std::unique_ptr<boot::TftpServer> tftp_server_;
    std::thread tftp_thread_;
    SessionEventRelay* session_events_ = nullptr;
    bool stopped_ = false;
};

}  // namespace bootherd::cli
