#pragma once
// Method + path pattern -> handler. Patterns are literal segments and parameters: "/api/v1/nodes/{name}",
// and a parameter may carry a literal suffix: "/boot/{mac}.ipxe". Parameters are percent-decoded and never
// contain '/'.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "web/http_message.hpp"

namespace bootherd::web {

using Handler = std::function<Response(Request&)>;

inline constexpr std::size_t kDefaultBodyLimit = 1024 * 1024;

struct RouteOptions {
    bool requires_auth = true;
    std::size_t body_limit = kDefaultBodyLimit;
    bool body_to_file = false;  // stream the body to a file (Request::body_file) instead of memory
    // Runs on the server's password-hashing lane (one thread, bounded queue) instead of the worker pool, so
    // password guessing cannot starve other requests of workers or CPU.
    bool hashes_password = false;
};

struct Route {
    http::verb method{};
    std::string pattern{};
    Handler handler{};
    RouteOptions options{};
};

class Router {
  public:
    // Throws std::invalid_argument for a malformed pattern.
    void add(http::verb method, std::string_view pattern, Handler handler, RouteOptions options = {});

    struct Match {
        enum class Kind { found, not_found, method_not_allowed } kind = Kind::not_found;
        const Route* route = nullptr;
        StringMap params{};
    };
    // HEAD matches GET routes.
    Match match(http::verb method, std::string_view path) const;
    const std::vector<Route>& routes() const { return routes_; }

  private:
    struct Segment {
        std::string literal{};  // whole segment, or the suffix after a parameter
        std::string parameter{};
    };
    struct Compiled {
        std::vector<Segment> segments;
    };
    static bool matches(const Compiled& compiled, const std::vector<std::string_view>& parts,
                        StringMap& params);

    std::vector<Route> routes_;
    std::vector<Compiled> compiled_;
};

}  // namespace bootherd::web
