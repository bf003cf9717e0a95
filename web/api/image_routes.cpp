// /api/v1/images (list, show, remove, import, upload, versions, promote, rollback, edit, commit, discard,
// flatten), /api/v1/jobs.
#include <boost/json.hpp>

#include "db/credentials.hpp"
#include "db/identifiers.hpp"
#include "imagestore/image_error.hpp"
#include "imagestore/store/catalog_targets.hpp"
#include "imagestore/store/image_copy.hpp"
#include "web/api/api_context.hpp"
#include "web/api/image_summary.hpp"
#include "web/api/lookup.hpp"
#include "web/api/render.hpp"
#include "web/api/version_file_route.hpp"
#include "web/api_error.hpp"
#include "web/json_input.hpp"

namespace bootherd::web {
namespace {

constexpr std::size_t kUploadLimit = std::size_t{256} * 1024 * 1024 * 1024;

boost::json::object render_version(ApiContext& context, const db::Version& version) {
    auto session = context.store.catalog().session();
    Renderer renderer(session, context.store.data_dir());
    return renderer.version(session.versions().get(version.id));
}

std::int64_t start_import(ApiContext& context, const std::string& name, std::filesystem::path file,
                          bool remove_after) {
    return context.jobs.start("import " + name, [&context, name, file, remove_after](const auto& report) {
        imagestore::store::ImportOptions options;
        options.progress = [&report](std::uint64_t done, std::uint64_t total) {
            if (total > 0) report(static_cast<double>(done) / static_cast<double>(total));
        };
        struct RemoveAfter {
            std::filesystem::path file;
            ~RemoveAfter() {
                std::error_code ignored;
                if (!file.empty()) std::filesystem::remove(file, ignored);
            }
        } cleanup{remove_after ? file : std::filesystem::path{}};
        context.store.import_image(name, file, options);
    });
}

// A draft's target and the credentials its maintenance machine logs in with: for users who may change
// images anyway, not for a read-only token (a metrics scraper).
void add_draft_access(boost::json::object& out, const Request& request, const std::string& image,
                      const db::Version& draft) {
    out["target"] = imagestore::store::draft_iqn(image);
    if (draft.chap_user && draft.chap_secret && !request.user().reads_only)
        out["chap"] = {{"user", *draft.chap_user}, {"secret", *draft.chap_secret}};
    else
        out["chap"] = nullptr;
}

// The image named in the path must exist (404), checked before any store call.
std::string existing_image(ApiContext& context, const Request& request) {
    auto session = context.store.catalog().session();
    return image_named(session, request.params.at("name")).name;
}

// The draft as `edit` answers it: the version, its target and credentials, and the portals to reach it at.
boost::json::object draft_answer(ApiContext& context, const Request& request, const std::string& image,
                                 const db::Version& draft) {
    auto out = render_version(context, draft);
    add_draft_access(out, request, image, draft);
    boost::json::array portals;
    for (const auto& portal : context.iscsi_portals)
        portals.push_back(
            boost::json::string(portal.address().to_string() + ":" + std::to_string(portal.port())));
    out["portals"] = std::move(portals);
    return out;
}

// Commit and discard are refused (409) while anyone is logged in to the draft, naming who: the server knows
// its sessions. (The store refuses too, from the draft's write lock, for commands in other processes.)
void refuse_while_logged_in(ApiContext& context, const std::string& image) {
    if (!context.live.sessions) return;
    const auto iqn = imagestore::store::draft_iqn(image);
    std::optional<db::Node> maintainer;
    if (const auto draft = context.store.draft(image)) maintainer = context.store.maintenance_node(*draft);
    for (const auto& info : context.live.sessions()) {
        if (info.target_iqn != iqn) continue;
        const std::string who =
            maintainer && imagestore::store::node_initiator_iqn(*maintainer) == info.initiator_name
                ? "node " + maintainer->name
                : "initiator " + info.initiator_name + " (from " + info.peer + ")";
        throw ApiError(http::status::conflict,
                       who + " is still logged in to the draft of image '" + image + "': shut it down first");
    }
}

// {"items": sealed versions, "draft": the draft with its access, or null}, as /versions answers.
boost::json::object versions_answer(ApiContext& context, db::Catalog::Session& session,
                                    const Request& request, const db::Image& image) {
    Renderer renderer(session, context.store.data_dir());
    boost::json::array items;
    boost::json::value draft = nullptr;
    for (const auto& version : session.versions().list(image.id)) {
        auto rendered = renderer.version(version);
        if (version.state == db::VersionState::draft) {
            add_draft_access(rendered, request, image.name, version);
            draft = rendered;
        } else {
            items.push_back(std::move(rendered));
        }
    }
    return boost::json::object{{"items", std::move(items)}, {"draft", std::move(draft)}};
}

void require_new_image_name(ApiContext& context, const std::string& name) {
    db::require_valid_name("name", name);
    auto session = context.store.catalog().session();
    if (session.images().find_by_name(name))
        throw ApiError(http::status::conflict, "an image named '" + name + "' exists", "name");
}

}  // namespace

void add_image_routes(Router& router, ApiContext& context) {
    router.add(http::verb::get, "/api/v1/images", [&context](Request&) {
        auto session = context.store.catalog().session();
        boost::json::array items;
        for (const auto& image : session.images().list())
            items.push_back(image_summary(session, image));
        return json_response(boost::json::object{{"items", std::move(items)}});
    });

    router.add(http::verb::post, "/api/v1/images", [&context](Request& request) {
        const auto body = parse_object(request.body);
        const auto name = required_string(body, "name");
        const std::filesystem::path path = required_string(body, "path");
        require_new_image_name(context, name);
        const auto file = context.store.import_dir_file(path);
        imagestore::store::check_importable(file);  // a refused image answers 400 now, not a failed job
        const auto job = start_import(context, name, file, false);
        audit(context, request, "image.import", "image:" + name, {{"path", path.string()}, {"job", job}});
        return json_response(boost::json::object{{"job", job}}, http::status::accepted);
    });

    router.add(
        http::verb::put, "/api/v1/images/{name}/upload",
        [&context](Request& request) {
            const auto& name = request.params.at("name");
            require_new_image_name(context, name);
            // The server deletes the body file after this handler: the job takes it over under a new name.
            auto owned = request.body_file;
            owned += ".import";
            std::filesystem::rename(request.body_file, owned);
            struct RemoveUnlessStarted {
                std::filesystem::path file;
                bool started = false;
                ~RemoveUnlessStarted() {
                    std::error_code ignored;
                    if (!started) std::filesystem::remove(file, ignored);
                }
            } cleanup{owned, false};
            try {
                imagestore::store::check_importable(owned);
            } catch (const imagestore::ImageError& e) {
                // Named as the client knows it, not by the server's scratch file.
                throw ApiError(http::status::bad_request,
                               "the uploaded image " + std::string(e.what()).substr(e.file().size() + 2));
            }
            const auto job = start_import(context, name, owned, true);
            cleanup.started = true;
            audit(context, request, "image.upload", "image:" + name, {{"job", job}});
            return json_response(boost::json::object{{"job", job}}, http::status::accepted);
        },
        RouteOptions{.body_limit = kUploadLimit, .body_to_file = true});

    router.add(http::verb::get, "/api/v1/jobs", [&context](Request&) {
        boost::json::array items;
        for (const auto& job : context.jobs.list())
            items.push_back(job_json(job));
        return json_response(boost::json::object{{"items", std::move(items)}});
    });

    router.add(http::verb::get, "/api/v1/jobs/{id}", [&context](Request& request) {
        std::optional<JobStatus> job;
        try {
            job = context.jobs.find(std::stoll(request.params.at("id")));
        } catch (const std::exception&) {
        }
        if (!job) throw ApiError(http::status::not_found, "no such job");
        return json_response(job_json(*job));
    });

    router.add(http::verb::get, "/api/v1/images/{name}/versions", [&context](Request& request) {
        auto session = context.store.catalog().session();
        const auto image = image_named(session, request.params.at("name"));
        return json_response(versions_answer(context, session, request, image));
    });

    router.add(http::verb::get, "/api/v1/images/{name}", [&context](Request& request) {
        auto session = context.store.catalog().session();
        const auto image = image_named(session, request.params.at("name"));
        auto out = image_summary(session, image);
        out["versions"] = versions_answer(context, session, request, image);
        return json_response(out);
    });

    router.add(http::verb::delete_, "/api/v1/images/{name}", [&context](Request& request) {
        const auto name = existing_image(context, request);
        context.store.remove_image(name);
        audit(context, request, "image.remove", "image:" + name);
        return no_content();
    });

    router.add(http::verb::post, "/api/v1/images/{name}/promote", [&context](Request& request) {
        const auto body = parse_object(request.body);
        const auto number = required_int(body, "version");
        const auto name = existing_image(context, request);
        const auto version = context.store.promote(name, number);
        audit(context, request, "image.promote", "image:" + name, {{"version", number}});
        return json_response(render_version(context, version));
    });

    router.add(http::verb::post, "/api/v1/images/{name}/rollback", [&context](Request& request) {
        const auto name = existing_image(context, request);
        const auto version = context.store.rollback(name);
        audit(context, request, "image.rollback", "image:" + name, {{"version", version.number}});
        return json_response(render_version(context, version));
    });

    // {"on": NODE} (optional): boot that node into the draft for maintenance, making the draft if there is
    // none.
    router.add(http::verb::post, "/api/v1/images/{name}/edit", [&context](Request& request) {
        const auto body = request.body.empty() ? boost::json::object{} : parse_object(request.body);
        const auto on = optional_string(body, "on");
        const auto name = existing_image(context, request);
        if (!on) {
            const auto version = context.store.edit(name);
            audit(context, request, "image.edit", "image:" + name, {{"version", version.number}});
            return json_response(draft_answer(context, request, name, version), http::status::created);
        }
        {
            auto session = context.store.catalog().session();
            if (!session.nodes().find_by_name(*on))
                throw ApiError(http::status::bad_request, "no node named '" + *on + "'", "on");
        }
        const auto maintenance = context.store.maintain(name, *on);
        audit(context, request, "image.edit", "image:" + name,
              {{"version", maintenance.draft.number}, {"on", maintenance.node.name}}, maintenance.node.id);
        return json_response(draft_answer(context, request, name, maintenance.draft),
                             maintenance.draft_created ? http::status::created : http::status::ok);
    });

    router.add(http::verb::post, "/api/v1/images/{name}/commit", [&context](Request& request) {
        const auto name = existing_image(context, request);
        refuse_while_logged_in(context, name);
        const auto version = context.store.commit(name);
        audit(context, request, "image.commit", "image:" + name, {{"version", version.number}});
        return json_response(render_version(context, version));
    });

    router.add(http::verb::post, "/api/v1/images/{name}/discard", [&context](Request& request) {
        const auto name = existing_image(context, request);
        refuse_while_logged_in(context, name);
        context.store.discard(name);
        audit(context, request, "image.discard", "image:" + name);
        return no_content();
    });

    router.add(http::verb::post, "/api/v1/images/{name}/flatten", [&context](Request& request) {
        const auto body = parse_object(request.body);
        const auto number = required_int(body, "version");
        const auto name = existing_image(context, request);
        const auto version = context.store.flatten(name, number);
        audit(context, request, "image.flatten", "image:" + name,
              {{"from", number}, {"version", version.number}});
        return json_response(render_version(context, version), http::status::created);
    });

    add_version_file_route(router, context);
}

}  // namespace bootherd::web
