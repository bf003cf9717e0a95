#pragma once
// The whole web application: every route of the REST API, the boot scripts and the dashboard's files.
#include "web/api/api_context.hpp"
#include "web/router.hpp"

namespace bootherd::web {

// The context must outlive the router.
Router make_router(ApiContext& context);

}  // namespace bootherd::web
