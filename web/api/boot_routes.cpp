// Boot records: GET /api/v1/boots, /api/v1/boots/summary, /api/v1/nodes/{name}/boots, and the machines' own
// health reports at POST /boot/health.
#include <boost/json.hpp>
#include <memory>
#include <mutex>

#include "common/ip_address.hpp"
#include "common/rate_limited_log.hpp"
#include "db/clock.hpp"
#include "web/api/api_context.hpp"
#include "web/api/lookup.hpp"
#include "web/api_error.hpp"
#include "web/connection_table.hpp"
#include "web/http_parsing.hpp"
#include "web/json_input.hpp"

namespace bootherd::web {
namespace {

constexpr std::size_t kHealthBodyLimit = 4096;
constexpr std::size_t kHealthMessageLimit = 1000;

boost::json::value optional_json(const std::optional<std::int64_t>& value) {
    if (!value) return nullptr;
    return *value;
}

boost::json::value optional_json(const std::optional<std::string>& value) {
    if (!value) return nullptr;
    return boost::json::string(*value);
}

boost::json::object boot_json(const db::Boot& boot) {
    const std::pair<const char*, const std::optional<std::int64_t>&> steps[] = {
        {"dhcp", boot.dhcp_at},
        {"tftp", boot.tftp_at},
        {"script", boot.script_at},
        {"firmware_login", boot.firmware_login_at},
        {"first_read", boot.first_read_at},
        {"os_login", boot.os_login_at},
        {"health", boot.health_at},
        {"end", boot.ended_at}};
    boost::json::array step_items;
    for (const auto& [name, at] : steps)
        if (at) step_items.push_back({{"step", name}, {"at", *at}});
    return {{"id", boot.id},
            {"node", boot.node_name},
            {"mac", boot.mac},
            {"image", optional_json(boot.image)},
            {"version", optional_json(boot.version)},
            {"draft", boot.draft},
            {"started_at", boot.started_at},
            {"ended_at", optional_json(boot.ended_at)},
            {"outcome", db::to_string(boot.outcome)},
            {"reason", boot.reason},
            {"message", boot.message},
            {"steps", std::move(step_items)}};
}

Response boot_page(const db::BootPage& page) {
    boost::json::array items;
    for (const auto& boot : page.boots)
        items.push_back(boot_json(boot));
    return json_response(boost::json::object{{"total", page.total}, {"items", std::move(items)}});
}

db::BootFilter paging(const Request& request) {
    return db::BootFilter{.limit = query_int(request, "limit", 50, 1, 1000),
                          .offset = query_int(request, "offset", 0, 0, 1'000'000'000)};
}

struct HealthReport {
    boots::Health health = boots::Health::ok;
    std::string message{};
};

// state=ok|failed and an optional message, form-encoded (curl -d) or as a JSON object.
HealthReport parse_health(const Request& request) {
    std::optional<std::string> state, message;
    const auto type = request.headers[http::field::content_type];
    if (type.starts_with("application/json")) {
        const auto body = parse_object(request.body);
        state = required_string(body, "state");
        message = optional_string(body, "message");
    } else {
        const auto form = parse_query(request.body);
        if (!form)
            throw ApiError(http::status::bad_request, "the body is not form-encoded (state=ok|failed)");
        if (auto found = form->find("state"); found != form->end()) state = found->second;
        if (auto found = form->find("message"); found != form->end()) message = found->second;
    }
    if (!state || (*state != "ok" && *state != "failed"))
        throw ApiError(http::status::bad_request, "state must be ok or failed", "state");
    HealthReport report{*state == "ok" ? boots::Health::ok : boots::Health::failed, message.value_or("")};
    if (report.message.size() > kHealthMessageLimit)
        throw ApiError(http::status::bad_request,
                       "message is longer than " + std::to_string(kHealthMessageLimit) + " bytes", "message");
    for (char& c : report.message)  // printable ASCII only: it lands in logs and the dashboard
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    return report;
}

// Refused health reports: logged and recorded as events, at most a few a minute whoever sends them.
class RefusalLog {
  public:
    void refuse(ApiContext& context, const std::string& address, const std::string& why) {
        {
            const std::lock_guard lock(mutex_);
            if (!log_.warn("web: health report from " + address + " refused: " + why,
                           std::chrono::steady_clock::now()))
                return;
        }
        const boost::json::object detail{{"address", address}, {"reason", why}};
        context.store.catalog().session().events().append(
            db::NewEvent{.kind = "boot.health.refused", .detail = boost::json::serialize(detail)});
    }

  private:
    std::mutex mutex_;
    RateLimitedLog log_{10, std::chrono::minutes(1)};
};

}  // namespace

void add_boot_routes(Router& router, ApiContext& context) {
    router.add(http::verb::get, "/api/v1/boots", [&context](Request& request) {
        auto filter = paging(request);
        if (auto outcome = request.query_value("outcome")) {
            filter.outcome = db::parse_boot_outcome(*outcome);
            if (!filter.outcome)
                throw ApiError(http::status::bad_request, "outcome must be running, ok or failed", "outcome");
        }
        filter.image = request.query_value("image");
        if (request.query_value("version")) filter.version = query_int(request, "version", 0, 1, INT64_MAX);
        auto session = context.store.catalog().session();
        if (auto node = request.query_value("node")) filter.node_id = node_named(session, *node).id;
        return boot_page(session.boots().list(filter));
    });

    router.add(http::verb::get, "/api/v1/boots/summary", [&context](Request&) {
        boost::json::array items;
        for (const auto& counts : context.store.catalog().session().boots().outcomes_by_version())
            items.push_back({{"image", optional_json(counts.image)},
                             {"version", optional_json(counts.version)},
                             {"running", counts.running},
                             {"ok", counts.ok},
                             {"failed", counts.failed}});
        return json_response(boost::json::object{{"items", std::move(items)}});
    });

    router.add(http::verb::get, "/api/v1/nodes/{name}/boots", [&context](Request& request) {
        auto filter = paging(request);
        auto session = context.store.catalog().session();
        filter.node_id = node_named(session, request.params.at("name")).id;
        return boot_page(session.boots().list(filter));
    });

    // A machine reports how its boot went. No credentials: the sender is the node whose current boot is
    // bound to the request's address (nodes.boot_address, set when its script was served), and the report
    // goes to that node's running boot only.
    auto refusals = std::make_shared<RefusalLog>();
    router.add(
        http::verb::post, "/boot/health",
        [&context, refusals](Request& request) {
            if (!context.boot_tracker)
                throw ApiError(http::status::not_found, "boot services are not running");
            const std::string address = unmapped(request.client).to_string();
            std::optional<db::Node> node;
            {
                auto session = context.store.catalog().session();
                if (const auto id = session.boots().node_at_boot_address(address))
                    node = session.nodes().find(*id);
            }
            if (!node || !node->effective_bind_address) {
                refusals->refuse(context, address, "no node's boot is bound to this address");
                return text_response("no machine's boot is bound to this address\n", "text/plain",
                                     http::status::forbidden);
            }
            auto report = parse_health(request);
            if (!context.boot_tracker->report_health(node->id, report.health, std::move(report.message),
                                                     db::now_ms()))
                throw ApiError(http::status::conflict, "node " + node->name + " has no running boot");
            const auto boot = context.store.catalog().session().boots().latest_for_node(node->id);
            return json_response(boot ? boot_json(*boot) : boost::json::object{});
        },
        RouteOptions{.requires_auth = false, .body_limit = kHealthBodyLimit});
}

}  // namespace bootherd::web
