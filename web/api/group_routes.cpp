// /api/v1/groups.
#include <boost/json.hpp>

#include "web/api/api_context.hpp"
#include "web/api/lookup.hpp"
#include "web/api/render.hpp"
#include "web/api_error.hpp"
#include "web/json_input.hpp"

namespace bootherd::web {
namespace {

boost::json::object render_group(ApiContext& context, db::Catalog::Session& session, const db::Group& group) {
    Renderer renderer(session, context.store.data_dir());
    return renderer.group(group);
}

}  // namespace

void add_group_routes(Router& router, ApiContext& context) {
    router.add(http::verb::get, "/api/v1/groups", [&context](Request&) {
        auto session = context.store.catalog().session();
        Renderer renderer(session, context.store.data_dir());
        boost::json::array items;
        for (const auto& group : session.groups().list())
            items.push_back(renderer.group(group));
        return json_response(boost::json::object{{"items", std::move(items)}});
    });

    router.add(http::verb::post, "/api/v1/groups", [&context](Request& request) {
        const auto body = parse_object(request.body);
        db::Group group;
        group.name = required_string(body, "name");
        group.persistent = optional_bool(body, "persistent").value_or(false);
        group.bind_address = optional_bool(body, "bind_address").value_or(true);
        group.description = optional_string(body, "description").value_or("");
        boost::json::object out;
        {
            auto session = context.store.catalog().session();
            group.image_id = image_id_for(session, optional_string(body, "image"));
            group = session.groups().create(group);
            out = render_group(context, session, group);
        }
        audit(context, request, "group.add", "group:" + group.name, body);
        return json_response(out, http::status::created);
    });

    router.add(http::verb::get, "/api/v1/groups/{name}", [&context](Request& request) {
        auto session = context.store.catalog().session();
        return json_response(render_group(context, session, group_named(session, request.params.at("name"))));
    });

    // Members whose effective image changes get a fresh disk on the new one.
    router.add(http::verb::patch, "/api/v1/groups/{name}", [&context](Request& request) {
        const auto body = parse_object(request.body);
        db::Group group;
        std::vector<std::string> members_to_reset;
        boost::json::object out;
        {
            auto session = context.store.catalog().session();
            group = group_named(session, request.params.at("name"));
            const auto old_image = group.image_id;
            if (auto name = optional_string(body, "name")) group.name = *name;
            if (auto image = nullable_string(body, "image")) group.image_id = image_id_for(session, *image);
            if (auto persistent = optional_bool(body, "persistent")) group.persistent = *persistent;
            if (auto bind = optional_bool(body, "bind_address")) group.bind_address = *bind;
            if (auto description = optional_string(body, "description")) group.description = *description;
            if (group.image_id != old_image) {
                db::NodeFilter filter;
                filter.group_id = group.id;
                filter.limit = 10000;
                for (const auto& node : session.nodes().list(filter).nodes)
                    if (!node.image_id) members_to_reset.push_back(node.name);
                // Checked before anything is written: a member that would be left with no image at all.
                if (!group.image_id && !members_to_reset.empty())
                    throw ApiError(
                        http::status::conflict,
                        "member '" + members_to_reset.front() +
                            "' has no image of its own: give it one before removing the group's image",
                        "image");
            }
            group = session.groups().update(group);
            out = render_group(context, session, group);
        }
        for (const auto& name : members_to_reset)
            context.store.reset_node(name);
        audit(context, request, "group.update", "group:" + group.name, body);
        return json_response(out);
    });

    router.add(http::verb::delete_, "/api/v1/groups/{name}", [&context](Request& request) {
        const auto& name = request.params.at("name");
        {
            auto session = context.store.catalog().session();
            session.groups().remove(group_named(session, name).id);
        }
        audit(context, request, "group.delete", "group:" + name);
        return no_content();
    });
}

}  // namespace bootherd::web
