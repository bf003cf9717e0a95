#pragma once
// Reading untrusted JSON request bodies and query parameters; every failure is an ApiError 400 naming the
// field at fault.
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "web/http_message.hpp"

namespace bootherd::web {

// The body as a JSON object (depth and size bounded by the parser and the route's body limit).
boost::json::object parse_object(std::string_view body);

std::string required_string(const boost::json::object& object, std::string_view key);
// Absent -> nullopt; present but not a string -> ApiError.
std::optional<std::string> optional_string(const boost::json::object& object, std::string_view key);
// Absent -> nullopt; null -> optional holding nullopt (clear the field); a string -> that string.
std::optional<std::optional<std::string>> nullable_string(const boost::json::object& object,
                                                          std::string_view key);
std::optional<bool> optional_bool(const boost::json::object& object, std::string_view key);
std::optional<std::optional<bool>> nullable_bool(const boost::json::object& object, std::string_view key);
std::int64_t required_int(const boost::json::object& object, std::string_view key);
const boost::json::array& required_array(const boost::json::object& object, std::string_view key);

// An integer query parameter within [min, max], `fallback` when absent.
std::int64_t query_int(const Request& request, std::string_view name, std::int64_t fallback, std::int64_t min,
                       std::int64_t max);
bool query_flag(const Request& request, std::string_view name);

}  // namespace bootherd::web
