#include "web/web_app.hpp"

#ifdef BOOTHERD_HAVE_DASHBOARD
#include "web/dashboard/assets.hpp"
#endif

namespace bootherd::web {
namespace {

void add_dashboard_routes([[maybe_unused]] Router& router) {
#ifdef BOOTHERD_HAVE_DASHBOARD
    for (const auto& asset : dashboard_assets()) {
        router.add(
            http::verb::get, asset.path,
            [&asset](Request&) {
                auto response = text_response(std::string(asset.body), std::string(asset.content_type));
                response.headers.emplace_back(http::field::cache_control, "no-cache");
                return response;
            },
            RouteOptions{.requires_auth = false});
    }
#endif
}

}  // namespace

Router make_router(ApiContext& context) {
    Router router;
    add_auth_routes(router, context);
    add_node_routes(router, context);
    add_group_routes(router, context);
    add_image_routes(router, context);
    add_live_routes(router, context);
    add_boot_routes(router, context);
    add_rollout_routes(router, context);
    add_server_routes(router, context);
    add_dashboard_routes(router);
    return router;
}

}  // namespace bootherd::web
