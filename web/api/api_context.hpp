#pragma once
// What the API route handlers share: the image store and catalog, live iSCSI state, the boot services'
// counters and script handler, authentication and the job registry.
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "boot/boot_counters.hpp"
#include "boots/boot_tracker.hpp"
#include "imagestore/store/image_store.hpp"
#include "target/iscsi/server.hpp"
#include "target/iscsi/server_stats.hpp"
#include "web/api/server_facts.hpp"
#include "web/auth.hpp"
#include "web/job_registry.hpp"
#include "web/router.hpp"
#include "web/throughput_meter.hpp"

namespace bootherd::db {
class EventNotices;
}

namespace bootherd::web {

// GET /boot/{mac}.ipxe: the iPXE script for the MAC, as the client (at that address) asked.
struct BootScriptReply {
    enum class Status {
        ok,         // `script` is the answer
        unknown,    // no script for this MAC (404)
        forbidden,  // the MAC's script does not go to this address (403)
    } status = Status::unknown;
    std::string script{};
};
using BootScriptHandler =
    std::function<BootScriptReply(std::string_view mac_text, const boost::asio::ip::address& client)>;

struct LiveSources {
    std::function<std::vector<iscsi::SessionInfo>()> sessions{};
    std::function<std::optional<iscsi::ServerStats>()> stats{};  // nullopt when the server keeps none
};

struct ApiContext {
    imagestore::store::ImageStore& store;
    Authenticator& auth;
    JobRegistry& jobs;
    LiveSources live{};
    BootScriptHandler boot_script{};
    const boot::BootCounters* boot_counters = nullptr;
    boots::BootTracker* boot_tracker = nullptr;  // null while the boot services are not running
    std::vector<boost::asio::ip::tcp::endpoint> iscsi_portals{};
    std::string
        wake_interface{};  // where Wake-on-LAN packets leave; empty: the default route, 255.255.255.255
    ThroughputMeter throughput{};
    ServerFacts server{};  // for GET /api/v1/server
    // Whether events may have been added (LISTEN/NOTIFY on PostgreSQL); null: the event stream queries the
    // catalog at every poll.
    const db::EventNotices* event_notices = nullptr;
};

// Writes an audit entry (actor = the request's user) and the matching "audit.<action>" event, so the live
// timeline shows operator actions next to boots.
void audit(ApiContext& context, const Request& request, std::string_view action, std::string_view target,
           const boost::json::object& detail = {}, std::optional<std::int64_t> node_id = std::nullopt);

// Registration of each group of routes of the contract.
void add_auth_routes(Router& router, ApiContext& context);
void add_node_routes(Router& router, ApiContext& context);
void add_group_routes(Router& router, ApiContext& context);
void add_image_routes(Router& router, ApiContext& context);
void add_live_routes(Router& router, ApiContext& context);
void add_boot_routes(Router& router, ApiContext& context);
void add_rollout_routes(Router& router, ApiContext& context);
void add_server_routes(Router& router, ApiContext& context);

}  // namespace bootherd::web
