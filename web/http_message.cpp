#include "web/http_message.hpp"

#include <boost/json/serialize.hpp>
#include <stdexcept>

namespace bootherd::web {

std::optional<std::string> Request::query_value(std::string_view name) const {
    auto it = query.find(name);
    if (it == query.end() || it->second.empty()) return std::nullopt;
    return it->second;
}

const Principal& Request::user() const {
    if (!principal) throw std::logic_error("route has no authenticated user");
    return *principal;
}

Response json_response(const boost::json::value& value, http::status status) {
    return Response{.status = status, .body = boost::json::serialize(value)};
}

Response text_response(std::string body, std::string content_type, http::status status) {
    return Response{.status = status, .content_type = std::move(content_type), .body = std::move(body)};
}

Response no_content() {
    return Response{.status = http::status::no_content, .content_type = {}};
}

}  // namespace bootherd::web
