#include "web/router.hpp"

#include <stdexcept>

#include "web/http_parsing.hpp"

namespace bootherd::web {
namespace {

// "/a/b/" -> {"a", "b", ""}; nullopt unless the path starts with '/'.
std::optional<std::vector<std::string_view>> split_path(std::string_view path) {
    if (path.empty() || path.front() != '/') return std::nullopt;
    std::vector<std::string_view> parts;
    path.remove_prefix(1);
    while (true) {
        const auto slash = path.find('/');
        parts.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return parts;
}

}  // namespace

void Router::add(http::verb method, std::string_view pattern, Handler handler, RouteOptions options) {
    auto parts = split_path(pattern);
    if (!parts) throw std::invalid_argument("route pattern must start with '/': " + std::string(pattern));
    Compiled compiled;
    for (auto part : *parts) {
        Segment segment;
        if (!part.empty() && part.front() == '{') {
            const auto close = part.find('}');
            if (close == std::string_view::npos || close == 1)
                throw std::invalid_argument("bad parameter in route pattern: " + std::string(pattern));
            segment.parameter = std::string(part.substr(1, close - 1));
            segment.literal = std::string(part.substr(close + 1));
        } else {
            segment.literal = std::string(part);
        }
        compiled.segments.push_back(std::move(segment));
    }
    routes_.push_back(Route{method, std::string(pattern), std::move(handler), options});
    compiled_.push_back(std::move(compiled));
}

bool Router::matches(const Compiled& compiled, const std::vector<std::string_view>& parts,
                     StringMap& params) {
    if (compiled.segments.size() != parts.size()) return false;
    StringMap found;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const Segment& segment = compiled.segments[i];
        const std::string_view part = parts[i];
        if (segment.parameter.empty()) {
            if (part != segment.literal) return false;
            continue;
        }
        if (part.size() <= segment.literal.size() || !part.ends_with(segment.literal)) return false;
        auto value = percent_decode(part.substr(0, part.size() - segment.literal.size()), false);
        if (!value || value->empty() || value->find('/') != std::string::npos) return false;
        found[segment.parameter] = std::move(*value);
    }
    params = std::move(found);
    return true;
}

Router::Match Router::match(http::verb method, std::string_view path) const {
    Match result;
    auto parts = split_path(path);
    if (!parts) return result;
    const http::verb wanted = method == http::verb::head ? http::verb::get : method;
    for (std::size_t i = 0; i < routes_.size(); ++i) {
        StringMap params;
        if (!matches(compiled_[i], *parts, params)) continue;
        if (routes_[i].method != wanted) {
            result.kind = Match::Kind::method_not_allowed;
            continue;
        }
        result.kind = Match::Kind::found;
        result.route = &routes_[i];
        result.params = std::move(params);
        return result;
    }
    return result;
}

}  // namespace bootherd::web
