#include "web/json_input.hpp"

#include <boost/json/parse.hpp>
#include <charconv>

#include "web/api_error.hpp"

namespace bootherd::web {
namespace {

[[noreturn]] void bad_field(std::string_view key, std::string_view what) {
    throw ApiError(http::status::bad_request, std::string(key) + " " + std::string(what), std::string(key));
}

}  // namespace

boost::json::object parse_object(std::string_view body) {
    boost::json::error_code ec;
    boost::json::parse_options options;
    options.max_depth = 32;
    boost::json::value value = boost::json::parse(body, ec, {}, options);
    if (ec) throw ApiError(http::status::bad_request, "request body is not valid JSON: " + ec.message());
    if (!value.is_object()) throw ApiError(http::status::bad_request, "request body must be a JSON object");
    return std::move(value.as_object());
}

std::string required_string(const boost::json::object& object, std::string_view key) {
    auto value = optional_string(object, key);
    if (!value) bad_field(key, "is required");
    return std::move(*value);
}

std::optional<std::string> optional_string(const boost::json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    if (!value) return std::nullopt;
    if (!value->is_string()) bad_field(key, "must be a string");
    return std::string(value->as_string());
}

std::optional<std::optional<std::string>> nullable_string(const boost::json::object& object,
                                                          std::string_view key) {
    const auto* value = object.if_contains(key);
    if (!value) return std::nullopt;
    if (value->is_null()) return std::optional<std::string>{};
    if (!value->is_string()) bad_field(key, "must be a string or null");
    return std::optional<std::string>{std::string(value->as_string())};
}

std::optional<bool> optional_bool(const boost::json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    if (!value) return std::nullopt;
    if (!value->is_bool()) bad_field(key, "must be true or false");
    return value->as_bool();
}

std::optional<std::optional<bool>> nullable_bool(const boost::json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    if (!value) return std::nullopt;
    if (value->is_null()) return std::optional<bool>{};
    if (!value->is_bool()) bad_field(key, "must be true, false or null");
    return std::optional<bool>{value->as_bool()};
}

std::int64_t required_int(const boost::json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    if (!value) bad_field(key, "is required");
    if (value->is_int64()) return value->as_int64();
    if (value->is_uint64() && value->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
        return static_cast<std::int64_t>(value->as_uint64());
    bad_field(key, "must be an integer");
}

const boost::json::array& required_array(const boost::json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    if (!value) bad_field(key, "is required");
    if (!value->is_array()) bad_field(key, "must be an array");
    return value->as_array();
}

std::int64_t query_int(const Request& request, std::string_view name, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) {
    auto text = request.query_value(name);
    if (!text) return fallback;
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc{} || end != text->data() + text->size()) bad_field(name, "must be an integer");
    if (value < min || value > max)
        bad_field(name, "must be " + std::to_string(min) + ".." + std::to_string(max));
    return value;
}

bool query_flag(const Request& request, std::string_view name) {
    auto text = request.query_value(name);
    return text && (*text == "1" || *text == "true" || *text == "yes");
}

}  // namespace bootherd::web
