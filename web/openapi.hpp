#pragma once
// The OpenAPI 3 description of the REST API: web/openapi.json, compiled into the binary.
#include <string_view>

namespace bootherd::web {

std::string_view openapi_document() noexcept;

}  // namespace bootherd::web
