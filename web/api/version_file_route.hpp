#pragma once
// GET /api/v1/images/{name}/versions/{number}/file: a sealed version's file, for other servers pulling it.
#include "web/api/api_context.hpp"

namespace bootherd::web {

void add_version_file_route(Router& router, ApiContext& context);

}  // namespace bootherd::web
