#include "web/origin_check.hpp"

#include <boost/beast/core/string.hpp>
#include <optional>
#include <string>

#include "web/api_error.hpp"

namespace bootherd::web {
namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// "host[:port]" with the scheme's default port made explicit; nullopt when malformed.
std::optional<std::string> authority(std::string_view host_port, std::string_view default_port) {
    if (host_port.empty() || host_port.find_first_of("/?#@ \t") != std::string_view::npos)
        return std::nullopt;
    const auto bracket = host_port.rfind(']');
    const auto colon = host_port.rfind(':');
    const bool has_port =
        colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
    if (has_port) {
        if (colon + 1 == host_port.size()) return lower(host_port) + std::string(default_port);
        return lower(host_port);
    }
    return lower(host_port) + ":" + std::string(default_port);
}

}  // namespace

bool same_origin(const http::fields& headers) {
    if (auto site = headers.find("Sec-Fetch-Site"); site != headers.end()) {
        const auto value = lower(site->value());
        if (value != "same-origin" && value != "none") return false;
    }
    auto origin = headers.find(http::field::origin);
    if (origin == headers.end()) return true;
    const std::string_view text = origin->value();
    std::string_view default_port;
    std::string_view rest;
    if (boost::beast::iequals(text.substr(0, 7), "http://")) {
        default_port = "80";
        rest = text.substr(7);
    } else if (boost::beast::iequals(text.substr(0, 8), "https://")) {
        default_port = "443";
        rest = text.substr(8);
    } else {
        return false;  // "null", other schemes, garbage
    }
    auto host = headers.find(http::field::host);
    if (host == headers.end()) return false;
    // Host omits the port exactly when it is the default of the scheme the browser used.
    const auto from = authority(rest, default_port);
    const auto to = authority(host->value(), default_port);
    return from && to && *from == *to;
}

void require_same_origin(const Request& request) {
    if (!same_origin(request.headers)) throw ApiError(http::status::forbidden, "cross-site request refused");
}

}  // namespace bootherd::web
