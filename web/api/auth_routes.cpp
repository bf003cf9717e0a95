// POST /api/v1/login, POST /api/v1/logout, GET /api/v1/me, /api/v1/tokens.
#include <boost/json.hpp>

#include "common/log.hpp"
#include "web/api/api_context.hpp"
#include "web/api/render.hpp"
#include "web/api_error.hpp"
#include "web/http_parsing.hpp"
#include "web/json_input.hpp"
#include "web/origin_check.hpp"

namespace bootherd::web {
namespace {

std::optional<std::string> request_cookie(const Request& request) {
    auto header = request.headers.find(http::field::cookie);
    if (header == request.headers.end()) return std::nullopt;
    return cookie_value(header->value(), kSessionCookie);
}

boost::json::value nullable(const std::optional<std::int64_t>& value) {
    return value ? boost::json::value(*value) : boost::json::value(nullptr);
}

// A client-chosen name made safe for one log line: printable ASCII, bounded.
std::string printable(std::string_view text) {
    constexpr std::size_t kLimit = 64;
    std::string out;
    for (char c : text.substr(0, kLimit))
        out.push_back(c > ' ' && c < 0x7f ? c : '?');
    if (text.size() > kLimit) out += "...";
    return out;
}

// Up to ten years, in seconds; nullopt when absent or null.
std::optional<std::chrono::seconds> token_lifetime(const boost::json::object& body) {
    auto found = body.find("expires_in");
    if (found == body.end() || found->value().is_null()) return std::nullopt;
    const auto& value = found->value();
    constexpr std::int64_t kMax = 10LL * 366 * 24 * 3600;
    if (!value.is_int64() || value.as_int64() < 1 || value.as_int64() > kMax)
        throw ApiError(http::status::bad_request, "must be a number of seconds, 1 to 10 years", "expires_in");
    return std::chrono::seconds(value.as_int64());
}

std::string token_scope(const boost::json::object& body) {
    auto found = body.find("scope");
    if (found == body.end() || found->value().is_null()) return std::string(db::kTokenScopeAdmin);
    if (!found->value().is_string()) throw ApiError(http::status::bad_request, "must be a string", "scope");
    return std::string(found->value().as_string());
}

}  // namespace

void add_auth_routes(Router& router, ApiContext& context) {
    const RouteOptions open{.requires_auth = false};
    const RouteOptions login_options{.requires_auth = false, .hashes_password = true};

    router.add(
        http::verb::post, "/api/v1/login",
        [&context](Request& request) {
            require_same_origin(request);
            const auto body = parse_object(request.body);
            const auto username = required_string(body, "username");
            const auto password = required_string(body, "password");
            const auto client = request.client.to_string();
            auto outcome = context.auth.login(username, password, request.client);
            if (outcome.retry_after.count() > 0) {
                auto refusal =
                    error_response(http::status::too_many_requests, "too many failed logins; retry later");
                refusal.headers.emplace_back(http::field::retry_after,
                                             std::to_string(outcome.retry_after.count()));
                return refusal;
            }
            if (!outcome.session) {
                const auto name = printable(username);
                log::warn("web: failed login for user '", name, "' from ", client,
                          outcome.locked_for.count() > 0
                              ? " (logins locked for " + std::to_string(outcome.locked_for.count()) + " s)"
                              : std::string());
                audit(context, request, "auth.login_failed", "user:" + name,
                      {{"address", client}, {"locked_for", outcome.locked_for.count()}});
                throw ApiError(http::status::unauthorized, "wrong username or password");
            }
            const auto& login = outcome.session;
            request.principal = Principal{0, login->username, false};
            audit(context, request, "user.login", "user:" + login->username, {{"address", client}});
            auto response = json_response(
                boost::json::object{{"username", login->username}, {"csrf_token", login->csrf_token}});
            response.headers.emplace_back(http::field::set_cookie,
                                          session_cookie(login->session_token, request.secure));
            return response;
        },
        login_options);

    // A live session is ended only with its CSRF token, like every other state change.
    router.add(
        http::verb::post, "/api/v1/logout",
        [&context](Request& request) {
            require_same_origin(request);
            if (auto cookie = request_cookie(request)) {
                auto csrf = request.headers.find(kCsrfHeader);
                context.auth.logout(*cookie, csrf == request.headers.end() ? "" : csrf->value());
            }
            auto response = no_content();
            response.headers.emplace_back(http::field::set_cookie, session_cookie("", request.secure));
            return response;
        },
        open);

    router.add(
        http::verb::get, "/api/v1/me",
        [&context](Request& request) {
            auto cookie = request_cookie(request);
            if (cookie) {
                if (auto session = context.auth.session(*cookie))
                    return json_response(boost::json::object{{"username", session->username},
                                                             {"csrf_token", session->csrf_token}});
            }
            context.auth.authenticate(request);  // a Bearer token: who it belongs to, no CSRF token
            return json_response(
                boost::json::object{{"username", request.user().username}, {"csrf_token", nullptr}});
        },
        open);

    router.add(http::verb::get, "/api/v1/tokens", [&context](Request&) {
        std::vector<db::ApiToken> tokens;
        {
            auto session = context.store.catalog().session();
            tokens = db::ApiTokensRepo(session.database()).list();
        }
        boost::json::array items;
        for (const auto& token : tokens)
            items.push_back(token_json(token));
        return json_response(boost::json::object{{"items", std::move(items)}});
    });

    router.add(http::verb::post, "/api/v1/tokens", [&context](Request& request) {
        const auto body = parse_object(request.body);
        const auto name = required_string(body, "name");
        auto [token, secret] =
            context.auth.create_token(request.user().user_id, name, token_scope(body), token_lifetime(body));
        audit(context, request, "token.create", "token:" + std::to_string(token.id),
              {{"name", token.name}, {"scope", token.scope}, {"expires", nullable(token.expires_at)}});
        auto out = token_json(token);
        out["token"] = secret;
        return json_response(out, http::status::created);
    });

    router.add(http::verb::delete_, "/api/v1/tokens/{id}", [&context](Request& request) {
        std::int64_t id = 0;
        try {
            id = std::stoll(request.params.at("id"));
        } catch (const std::exception&) {
            throw ApiError(http::status::not_found, "no such token");
        }
        bool removed = false;
        {
            auto session = context.store.catalog().session();
            removed = db::ApiTokensRepo(session.database()).remove(id);
        }
        if (!removed) throw ApiError(http::status::not_found, "no such token");
        audit(context, request, "token.delete", "token:" + std::to_string(id));
        return no_content();
    });
}

}  // namespace bootherd::web
