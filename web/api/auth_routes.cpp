// POST /api/v1/login, POST /api/v1/logout, GET /api/v1/me, /api/v1/tokens.
#include <boost/json.hpp>

#include "web/api/api_context.hpp"
#include "web/api_error.hpp"
#include "web/http_parsing.hpp"
#include "web/json_input.hpp"

namespace bootherd::web {
namespace {

std::optional<std::string> request_cookie(const Request& request) {
    auto header = request.headers.find(http::field::cookie);
    if (header == request.headers.end()) return std::nullopt;
    return cookie_value(header->value(), kSessionCookie);
}

boost::json::object token_json(const db::ApiToken& token) {
    boost::json::object out{
        {"id", token.id}, {"name", token.name}, {"user", token.user_name}, {"created", token.created_at}};
    out["last_used"] =
        token.last_used_at ? boost::json::value(*token.last_used_at) : boost::json::value(nullptr);
    return out;
}

}  // namespace

void add_auth_routes(Router& router, ApiContext& context) {
    const RouteOptions open{.requires_auth = false};

    router.add(
        http::verb::post, "/api/v1/login",
        [&context](Request& request) {
            const auto body = parse_object(request.body);
            const auto username = required_string(body, "username");
            const auto password = required_string(body, "password");
            auto login = context.auth.login(username, password);
            if (!login) throw ApiError(http::status::unauthorized, "wrong username or password");
            request.principal = Principal{0, login->username, false};
            audit(context, request, "user.login", "user:" + login->username,
                  {{"address", request.client.to_string()}});
            auto response = json_response(
                boost::json::object{{"username", login->username}, {"csrf_token", login->csrf_token}});
            response.headers.emplace_back(http::field::set_cookie,
                                          session_cookie(login->session_token, request.secure));
            return response;
        },
        open);

    // Logging out needs no CSRF token: the worst a forged logout does is end the session.
    router.add(
        http::verb::post, "/api/v1/logout",
        [&context](Request& request) {
            if (auto cookie = request_cookie(request)) context.auth.logout(*cookie);
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
        auto [token, secret] = context.auth.create_token(request.user().user_id, name);
        audit(context, request, "token.create", "token:" + std::to_string(token.id), {{"name", token.name}});
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
