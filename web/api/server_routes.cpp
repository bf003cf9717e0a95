// /api/v1/server (the running server's facts), /api/v1/servers (all servers sharing the catalog),
// /api/v1/audit (who changed what), /api/v1/users.
#include <boost/json.hpp>

#include "common/log.hpp"
#include "common/version.hpp"
#include "db/clock.hpp"
#include "db/users_repo.hpp"
#include "imagestore/store/image_store.hpp"
#include "web/api/api_context.hpp"
#include "web/api/server_list.hpp"
#include "web/api_error.hpp"
#include "web/json_input.hpp"

namespace bootherd::web {
namespace {

constexpr std::size_t kMaxFilterLength = 200;

boost::json::array endpoints_json(const std::vector<boost::asio::ip::tcp::endpoint>& endpoints) {
    boost::json::array out;
    for (const auto& endpoint : endpoints) {
        const auto address = endpoint.address();
        const auto host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
        out.push_back(boost::json::string(host + ":" + std::to_string(endpoint.port())));
    }
    return out;
}

boost::json::value dhcp_json(const DhcpFacts& dhcp) {
    boost::json::value range = nullptr;
    if (dhcp.range) range = boost::json::object{{"first", dhcp.range->first}, {"last", dhcp.range->last}};
    boost::json::value interface = nullptr;
    if (!dhcp.interface.empty()) interface = boost::json::string(dhcp.interface);
    return boost::json::object{
        {"mode", dhcp.mode}, {"interface", std::move(interface)}, {"range", std::move(range)}};
}

boost::json::array interfaces_json() {
    boost::json::array out;
    try {
        for (const auto& host : host_interfaces()) {
            boost::json::array addresses;
            for (const auto& address : host.addresses)
                addresses.push_back(boost::json::string(address));
            boost::json::value mac = nullptr;
            if (!host.mac.empty()) mac = boost::json::string(host.mac);
            out.push_back(boost::json::object{{"name", host.name},
                                              {"mac", std::move(mac)},
                                              {"addresses", std::move(addresses)},
                                              {"up", host.up}});
        }
    } catch (const std::exception& e) {
        log::warn("web: could not list the network interfaces: ", e.what());
    }
    return out;
}

std::int64_t allocated(const imagestore::store::ImageStore& store, const std::string& relative_path) {
    try {
        return static_cast<std::int64_t>(imagestore::store::allocated_bytes(store.absolute(relative_path)));
    } catch (const std::exception&) {
        return 0;  // being replaced or removed right now
    }
}

// Disk usage of the image store: its file system, and what version files and node disks take on it.
boost::json::object store_json(ApiContext& context) {
    std::int64_t images = 0, nodes = 0;
    std::vector<std::string> version_files, disks;
    {
        auto session = context.store.catalog().session();
        for (const auto& image : session.images().list()) {
            ++images;
            for (const auto& version : session.versions().list(image.id))
                version_files.push_back(version.file_path);
        }
        db::NodeFilter filter;
        filter.limit = 10000;
        const auto page = session.nodes().list(filter);
        nodes = page.total;
        for (const auto& node : page.nodes)
            if (node.disk_path) disks.push_back(*node.disk_path);
    }
    // The files are measured without holding the catalog.
    std::int64_t images_bytes = 0, disks_bytes = 0;
    for (const auto& file : version_files)
        images_bytes += allocated(context.store, file);
    for (const auto& disk : disks)
        disks_bytes += allocated(context.store, disk);
    boost::json::value total = nullptr, free = nullptr;
    try {
        const auto space = file_system_space(context.store.data_dir());
        total = space.total;
        free = space.free;
    } catch (const std::exception& e) {
        log::warn("web: could not read the data directory's file system: ", e.what());
    }
    return boost::json::object{{"bytes_total", std::move(total)},
                               {"bytes_free", std::move(free)},
                               {"bytes_used_images", images_bytes},
                               {"bytes_used_disks", disks_bytes},
                               {"images", images},
                               {"versions", static_cast<std::int64_t>(version_files.size())},
                               {"nodes", nodes}};
}

// A text filter: absent or empty -> none.
std::optional<std::string> filter_text(const Request& request, std::string_view name) {
    auto value = request.query_value(name);
    if (!value || value->empty()) return std::nullopt;
    if (value->size() > kMaxFilterLength)
        throw ApiError(http::status::bad_request, "must be at most 200 characters", std::string(name));
    return value;
}

// A time filter in UTC milliseconds: absent or empty -> none.
std::optional<std::int64_t> filter_time(const Request& request, std::string_view name) {
    const auto value = request.query_value(name);
    if (!value || value->empty()) return std::nullopt;
    return query_int(request, name, 0, 0, std::int64_t{1} << 53);
}

boost::json::object audit_json(const db::AuditEntry& entry) {
    boost::json::error_code ec;
    auto detail = boost::json::parse(entry.detail, ec);
    if (ec || !detail.is_object()) detail = boost::json::object{};
    return boost::json::object{{"id", entry.id},         {"at", entry.at},
                               {"actor", entry.actor},   {"action", entry.action},
                               {"target", entry.target}, {"detail", std::move(detail)}};
}

}  // namespace

void add_server_routes(Router& router, ApiContext& context) {
    router.add(http::verb::get, "/api/v1/server", [&context](Request&) {
        const auto now = db::now_ms();
        const auto& facts = context.server;
        return json_response(boost::json::object{
            {"version", std::string(kVersion)},
            {"started_at", facts.started_at},
            {"uptime_s",
             facts.started_at > 0 ? std::max<std::int64_t>(0, (now - facts.started_at) / 1000) : 0},
            {"data_dir", context.store.data_dir().string()},
            {"listeners",
             {{"iscsi", endpoints_json(context.iscsi_portals)},
              {"http",
               endpoints_json(facts.http_listeners ? facts.http_listeners()
                                                   : std::vector<boost::asio::ip::tcp::endpoint>{})}}},
            {"dhcp", dhcp_json(facts.dhcp)},
            {"interfaces", interfaces_json()},
            {"store", store_json(context)}});
    });

    router.add(http::verb::get, "/api/v1/servers", [&context](Request&) {
        auto session = context.store.catalog().session();
        return json_response(servers_json(session, db::now_ms(), context.server.heartbeat_timeout_ms));
    });

    router.add(http::verb::get, "/api/v1/audit", [&context](Request& request) {
        db::AuditFilter filter{.actor = filter_text(request, "actor"),
                               .action = filter_text(request, "action"),
                               .target = filter_text(request, "target"),
                               .since = filter_time(request, "since"),
                               .until = filter_time(request, "until"),
                               .limit = query_int(request, "limit", 100, 1, 1000),
                               .offset = query_int(request, "offset", 0, 0, 1'000'000'000)};
        if (filter.since && filter.until && *filter.until < *filter.since)
            throw ApiError(http::status::bad_request, "must not be before since", "until");
        auto session = context.store.catalog().session();
        const auto page = session.audit().search(filter);
        boost::json::array items;
        for (const auto& entry : page.entries)
            items.push_back(audit_json(entry));
        return json_response(boost::json::object{{"items", std::move(items)}, {"total", page.total}});
    });

    router.add(http::verb::get, "/api/v1/users", [&context](Request&) {
        auto session = context.store.catalog().session();
        db::UsersRepo users(session.database());
        const auto last_logins = users.last_logins();
        boost::json::array items;
        for (const auto& user : users.list()) {
            boost::json::value last = nullptr;
            if (const auto found = last_logins.find(user.id); found != last_logins.end())
                last = found->second;
            items.push_back(boost::json::object{{"id", user.id},
                                                {"username", user.name},
                                                {"created_at", user.created_at},
                                                {"last_login_at", std::move(last)}});
        }
        return json_response(boost::json::object{{"items", std::move(items)}});
    });
}

}  // namespace bootherd::web
