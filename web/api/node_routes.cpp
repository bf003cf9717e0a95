// /api/v1/nodes, /api/v1/nodes/import, /api/v1/nodes/bulk, /api/v1/discovered.
#include <boost/json.hpp>

#include "boot/wake_on_lan.hpp"
#include "db/error.hpp"
#include "web/api/api_context.hpp"
#include "web/api/lookup.hpp"
#include "web/api/render.hpp"
#include "web/api_error.hpp"
#include "web/json_input.hpp"

namespace bootherd::web {
namespace {

constexpr std::size_t kCsvBodyLimit = 8 * 1024 * 1024;
constexpr std::size_t kMaxBulkNames = 10000;

boost::json::object render_node(ApiContext& context, const db::Node& node) {
    auto session = context.store.catalog().session();
    Renderer renderer(session, context.store.data_dir());
    return renderer.node(session.nodes().get(node.id));
}

// The changes a body asks for ("image", "group": name or null; "persistent", "bind_address": bool or null
// (null: the group's); "hostname", "fixed_ip": string or null (null: none); "enabled"; "mac"; "name"), with
// names resolved.
db::NodeChanges node_changes(db::Catalog::Session& session, const boost::json::object& body) {
    db::NodeChanges changes;
    if (auto image = nullable_string(body, "image")) changes.image_id = image_id_for(session, *image);
    if (auto group = nullable_string(body, "group")) changes.group_id = group_id_for(session, *group);
    if (auto persistent = nullable_bool(body, "persistent")) changes.persistent = *persistent;
    if (auto bind = nullable_bool(body, "bind_address")) changes.bind_address = *bind;
    if (auto hostname = nullable_string(body, "hostname")) changes.hostname = *hostname;
    if (auto fixed_ip = nullable_string(body, "fixed_ip")) changes.fixed_ip = *fixed_ip;
    changes.enabled = optional_bool(body, "enabled");
    changes.mac = optional_string(body, "mac");
    changes.name = optional_string(body, "name");
    return changes;
}

// Applies the changes; a node whose effective image changed gets a fresh disk on it.
db::Node change_node(ApiContext& context, std::string_view name, const boost::json::object& body) {
    db::Node before, after;
    {
        auto session = context.store.catalog().session();
        before = node_named(session, name);
        after = session.nodes().update(before.id, node_changes(session, body));
    }
    if (after.effective_image_id != before.effective_image_id) after = context.store.reset_node(after.name);
    return after;
}

void wake(ApiContext& context, const db::Node& node) {
    auto mac = boot::MacAddress::parse(node.mac);
    if (!mac) throw ApiError(http::status::conflict, "node has an unusable MAC address", "mac");
    boot::Ipv4 destination = boot::Ipv4::broadcast();
    if (!context.wake_interface.empty()) {
        auto broadcast = boot::interface_broadcast_address(context.wake_interface);
        if (!broadcast)
            throw ApiError(http::status::conflict, "no IPv4 broadcast address on " + context.wake_interface);
        destination = *broadcast;
    }
    boot::send_magic_packet(*mac, destination, context.wake_interface);
}

void bulk_one(ApiContext& context, Request& request, const std::string& action, const std::string& name,
              const boost::json::object& body) {
    db::Node node;
    {
        auto session = context.store.catalog().session();
        node = node_named(session, name);
    }
    boost::json::object detail{{"bulk", true}};
    if (action == "assign") {
        boost::json::object changes;
        if (auto* image = body.if_contains("image")) changes["image"] = *image;
        if (auto* group = body.if_contains("group")) changes["group"] = *group;
        change_node(context, name, changes);
        detail = changes;
    } else if (action == "persistence") {
        change_node(context, name, boost::json::object{{"persistent", body.at("persistent")}});
        detail["persistent"] = body.at("persistent");
    } else if (action == "reset") {
        context.store.reset_node(name);
    } else if (action == "wake") {
        wake(context, node);
    } else if (action == "enable" || action == "disable") {
        change_node(context, name, boost::json::object{{"enabled", action == "enable"}});
    } else if (action == "delete") {
        context.store.remove_node(name);
    }
    audit(context, request, "node." + action, "node:" + name, detail, node.id);
}

boost::json::object import_errors(const db::ImportReport& report) {
    boost::json::array errors;
    for (const auto& problem : report.problems)
        errors.push_back({{"line", problem.line}, {"field", problem.field}, {"message", problem.message}});
    return boost::json::object{
        {"error", std::to_string(report.problems.size()) + " problem(s) in the CSV; nothing was imported"},
        {"errors", std::move(errors)},
        {"rows", report.rows}};
}

}  // namespace

void add_node_routes(Router& router, ApiContext& context) {
    router.add(http::verb::get, "/api/v1/nodes", [&context](Request& request) {
        const auto limit = query_int(request, "limit", 100, 1, 1000);
        const auto offset = query_int(request, "offset", 0, 0, 1'000'000'000);
        const auto status_text = request.query_value("status");
        const auto status = status_text ? boots::parse_machine_status(*status_text) : std::nullopt;
        if (status_text && !status)
            throw ApiError(http::status::bad_request, "status must be off, booting, booted or failed",
                           "status");
        auto session = context.store.catalog().session();
        db::NodeFilter filter;
        filter.search = request.query_value("q").value_or("");
        boost::json::array items;
        const auto empty = [] {
            return json_response(boost::json::object{{"total", 0}, {"items", boost::json::array{}}});
        };
        if (auto group = request.query_value("group")) {
            auto found = session.groups().find_by_name(*group);
            if (!found) return empty();
            filter.group_id = found->id;
        }
        if (auto image = request.query_value("image")) {
            auto found = session.images().find_by_name(*image);
            if (!found) return empty();
            filter.image_id = found->id;
        }
        Renderer renderer(session, context.store.data_dir());
        std::int64_t total = 0;
        if (!status) {
            filter.limit = limit;
            filter.offset = offset;
            const auto page = session.nodes().list(filter);
            total = page.total;
            for (const auto& node : page.nodes)
                items.push_back(renderer.node(node));
        } else {
            // The status is not a column: filter the whole selection, then page it.
            filter.limit = 10000;
            renderer.load_latest_boots();
            for (const auto& node : session.nodes().list(filter).nodes) {
                if (renderer.status(node) != *status) continue;
                if (total >= offset && total < offset + limit) items.push_back(renderer.node(node));
                ++total;
            }
        }
        return json_response(boost::json::object{{"total", total}, {"items", std::move(items)}});
    });

    router.add(http::verb::post, "/api/v1/nodes", [&context](Request& request) {
        const auto body = parse_object(request.body);
        db::NewNode node;
        node.name = required_string(body, "name");
        node.mac = required_string(body, "mac");
        node.persistent = optional_bool(body, "persistent");
        node.bind_address = optional_bool(body, "bind_address");
        node.enabled = optional_bool(body, "enabled").value_or(true);
        node.hostname = nullable_string(body, "hostname").value_or(std::nullopt);
        node.fixed_ip = nullable_string(body, "fixed_ip").value_or(std::nullopt);
        {
            auto session = context.store.catalog().session();
            node.image_id = image_id_for(session, optional_string(body, "image"));
            node.group_id = group_id_for(session, optional_string(body, "group"));
        }
        const auto added = context.store.add_node(node);
        audit(context, request, "node.add", "node:" + added.name, {{"mac", added.mac}}, added.id);
        return json_response(render_node(context, added), http::status::created);
    });

    router.add(http::verb::get, "/api/v1/nodes/{name}", [&context](Request& request) {
        auto session = context.store.catalog().session();
        const auto node = node_named(session, request.params.at("name"));
        Renderer renderer(session, context.store.data_dir());
        auto out = renderer.node(node);
        boost::json::array events;
        for (const auto& event : session.events().list_for_node(node.id, 50))
            events.push_back(renderer.event(event));
        out["events"] = std::move(events);
        out["created"] = node.created_at;
        return json_response(out);
    });

    router.add(http::verb::patch, "/api/v1/nodes/{name}", [&context](Request& request) {
        const auto body = parse_object(request.body);
        const auto node = change_node(context, request.params.at("name"), body);
        audit(context, request, "node.update", "node:" + node.name, body, node.id);
        return json_response(render_node(context, node));
    });

    router.add(http::verb::delete_, "/api/v1/nodes/{name}", [&context](Request& request) {
        const auto& name = request.params.at("name");
        std::int64_t id = 0;
        {
            auto session = context.store.catalog().session();
            id = node_named(session, name).id;
        }
        context.store.remove_node(name);
        audit(context, request, "node.delete", "node:" + name, {}, id);
        return no_content();
    });

    router.add(
        http::verb::post, "/api/v1/nodes/import",
        [&context](Request& request) {
            const bool validate_only = query_flag(request, "validate_only");
            const auto report = validate_only
                                    ? context.store.catalog().session().nodes().import_csv(request.body, true)
                                    : context.store.import_nodes(request.body);
            if (!report.ok()) return json_response(import_errors(report), http::status::unprocessable_entity);
            if (validate_only)
                return json_response(boost::json::object{{"valid", true}, {"rows", report.rows}});
            audit(context, request, "node.import", "nodes", {{"imported", report.imported}});
            return json_response(boost::json::object{{"imported", report.imported}}, http::status::created);
        },
        RouteOptions{.body_limit = kCsvBodyLimit});

    router.add(
        http::verb::post, "/api/v1/nodes/bulk",
        [&context](Request& request) {
            const auto body = parse_object(request.body);
            const auto action = required_string(body, "action");
            static constexpr std::array<std::string_view, 7> actions{"assign", "persistence", "reset", "wake",
                                                                     "enable", "disable",     "delete"};
            if (std::find(actions.begin(), actions.end(), action) == actions.end())
                throw ApiError(http::status::bad_request,
                               "action must be assign, persistence, reset, wake, enable, disable or delete",
                               "action");
            if (action == "assign" && !body.contains("image") && !body.contains("group"))
                throw ApiError(http::status::bad_request, "assign needs image or group", "image");
            if (action == "assign") {
                // Check the names once, up front, rather than failing every row.
                auto session = context.store.catalog().session();
                image_id_for(session, nullable_string(body, "image").value_or(std::nullopt));
                group_id_for(session, nullable_string(body, "group").value_or(std::nullopt));
            }
            if (action == "persistence" && !nullable_bool(body, "persistent"))
                throw ApiError(http::status::bad_request, "persistent is required", "persistent");
            const auto& names = required_array(body, "names");
            if (names.size() > kMaxBulkNames)
                throw ApiError(http::status::bad_request, "at most 10000 names at once", "names");
            boost::json::array results;
            for (const auto& entry : names) {
                if (!entry.is_string())
                    throw ApiError(http::status::bad_request, "names must be strings", "names");
            }
            for (const auto& entry : names) {
                const std::string name(entry.as_string());
                try {
                    bulk_one(context, request, action, name, body);
                    results.push_back({{"name", name}, {"ok", true}});
                } catch (const std::exception& e) {
                    results.push_back({{"name", name}, {"ok", false}, {"error", e.what()}});
                }
            }
            return json_response(boost::json::object{{"results", std::move(results)}});
        },
        RouteOptions{.body_limit = kCsvBodyLimit});

    router.add(http::verb::get, "/api/v1/discovered", [&context](Request&) {
        auto session = context.store.catalog().session();
        boost::json::array items;
        for (const auto& seen : session.discovered().list(true)) {
            items.push_back({{"mac", seen.mac},
                             {"first_seen", seen.first_seen},
                             {"last_seen", seen.last_seen},
                             {"client_arch", seen.arch},
                             {"vendor_class", seen.vendor_class},
                             {"seen_count", seen.seen_count}});
        }
        return json_response(boost::json::object{{"items", std::move(items)}});
    });

    // All items or none: every node is added in one transaction, then their disks are created.
    router.add(http::verb::post, "/api/v1/discovered/enroll", [&context](Request& request) {
        const auto body = parse_object(request.body);
        const auto& items = required_array(body, "items");
        if (items.empty()) throw ApiError(http::status::bad_request, "items must not be empty", "items");
        std::vector<db::Node> added;
        {
            auto session = context.store.catalog().session();
            db::Transaction tx(session.database());
            for (std::size_t i = 0; i < items.size(); ++i) {
                const std::string where = "items[" + std::to_string(i) + "]";
                try {
                    if (!items[i].is_object()) throw ApiError(http::status::bad_request, "must be an object");
                    const auto& item = items[i].as_object();
                    db::NewNode node;
                    node.mac = required_string(item, "mac");
                    node.name = required_string(item, "name");
                    node.persistent = optional_bool(item, "persistent");
                    node.hostname = nullable_string(item, "hostname").value_or(std::nullopt);
                    node.fixed_ip = nullable_string(item, "fixed_ip").value_or(std::nullopt);
                    node.image_id = image_id_for(session, optional_string(item, "image"));
                    node.group_id = group_id_for(session, optional_string(item, "group"));
                    added.push_back(session.nodes().add(node));
                } catch (const ApiError& e) {
                    throw ApiError(e.status(), where + ": " + e.what(), where + "." + e.field());
                } catch (const db::InvalidArgument& e) {
                    throw ApiError(http::status::bad_request, where + ": " + e.what(),
                                   where + "." + e.field());
                } catch (const db::Conflict& e) {
                    throw ApiError(http::status::conflict, where + ": " + e.what(), where + "." + e.field());
                }
            }
            tx.commit();
        }
        for (const auto& node : added) {
            context.store.ensure_disk(node.id);
            audit(context, request, "node.enroll", "node:" + node.name, {{"mac", node.mac}}, node.id);
        }
        return json_response(boost::json::object{{"enrolled", added.size()}}, http::status::created);
    });
}

}  // namespace bootherd::web
