#include "web/auth.hpp"

#include <openssl/crypto.h>

#include "db/clock.hpp"
#include "db/error.hpp"
#include "db/users_repo.hpp"
#include "db/web_sessions_repo.hpp"
#include "web/api_error.hpp"
#include "web/http_parsing.hpp"
#include "web/password_hash.hpp"

namespace bootherd::web {
namespace {

constexpr std::int64_t kSessionLifetimeMs = 12LL * 3600 * 1000;

bool changes_state(http::verb method) {
    return method != http::verb::get && method != http::verb::head && method != http::verb::options;
}

bool same_secret(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::optional<std::string> Authenticator::ensure_admin() {
    auto session = catalog_.session();
    db::UsersRepo users(session.database());
    if (!users.list().empty()) return std::nullopt;
    std::string password = random_token(12);
    users.create(kAdminUser, hash_password(password));
    return password;
}

void Authenticator::set_password(std::string_view username, std::string_view password) {
    if (password.size() < 8) throw db::InvalidArgument("password", "must be at least 8 characters");
    const std::string hash = hash_password(password);  // slow: outside the catalog lock
    auto session = catalog_.session();
    db::Transaction tx(session.database());
    db::UsersRepo users(session.database());
    if (auto user = users.find_by_name(username)) {
        users.set_password_hash(user->id, hash);
        db::WebSessionsRepo(session.database()).remove_for_user(user->id);
    } else {
        users.create(username, hash);
    }
    tx.commit();
}

LoginOutcome Authenticator::login(std::string_view username, std::string_view password,
                                  const boost::asio::ip::address& client) {
    const auto started = LoginThrottle::Clock::now();
    if (auto wait = throttle_.retry_after(client, username, started))
        return LoginOutcome{.retry_after = *wait};
    std::optional<db::User> user;
    {
        auto session = catalog_.session();
        user = db::UsersRepo(session.database()).find_by_name(username);
    }
    // Verify against a dummy hash for unknown users, so timing does not reveal which names exist.
    static const std::string dummy = hash_password("not a password");
    const bool ok = verify_password(password, user ? user->password_hash : dummy);
    if (!user || !ok) return LoginOutcome{.locked_for = throttle_.record_failure(client, username, started)};
    throttle_.record_success(client, username);
    LoginSession result{user->name, random_token(), random_token()};
    auto session = catalog_.session();
    db::WebSessionsRepo sessions(session.database());
    const auto now = db::now_ms();
    sessions.prune_expired(now);
    sessions.create(sha256_hex(result.session_token), user->id, result.csrf_token, now + kSessionLifetimeMs);
    return LoginOutcome{.session = std::move(result)};
}

void Authenticator::logout(std::string_view session_token, std::string_view csrf_token) {
    auto session = catalog_.session();
    db::WebSessionsRepo sessions(session.database());
    const auto hash = sha256_hex(session_token);
    auto found = sessions.find_live(hash, db::now_ms());
    if (!found) return;  // nothing to end
    if (!same_secret(csrf_token, found->csrf_token))
        throw ApiError(http::status::forbidden, "CSRF token missing or wrong");
    sessions.remove(hash);
}

std::optional<LoginSession> Authenticator::session(std::string_view session_token) {
    auto session = catalog_.session();
    auto found = db::WebSessionsRepo(session.database()).find_live(sha256_hex(session_token), db::now_ms());
    if (!found) return std::nullopt;
    return LoginSession{found->user_name, std::string(session_token), found->csrf_token};
}

void Authenticator::authenticate(Request& request) {
    if (auto header = request.headers.find(http::field::authorization); header != request.headers.end()) {
        auto token = bearer_token(header->value());
        if (!token) throw ApiError(http::status::unauthorized, "unsupported Authorization scheme");
        const std::string hash = sha256_hex(*token);
        auto session = catalog_.session();
        db::ApiTokensRepo tokens(session.database());
        auto found = tokens.find_by_hash(hash);
        if (!found) throw ApiError(http::status::unauthorized, "invalid API token");
        const auto now = db::now_ms();
        if (found->expires_at && *found->expires_at <= now)
            throw ApiError(http::status::unauthorized, "API token expired");
        const bool reads = request.method == http::verb::get || request.method == http::verb::head;
        if (found->scope != db::kTokenScopeAdmin && !reads)
            throw ApiError(http::status::forbidden, "this API token may only read (GET, HEAD)");
        tokens.touch(found->id, now);
        request.principal =
            Principal{found->user_id, found->user_name, true, found->scope != db::kTokenScopeAdmin};
        return;
    }
    std::optional<std::string> cookie;
    if (auto header = request.headers.find(http::field::cookie); header != request.headers.end())
        cookie = cookie_value(header->value(), kSessionCookie);
    if (!cookie) throw ApiError(http::status::unauthorized, "authentication required");
    std::optional<db::WebSession> found;
    {
        auto session = catalog_.session();
        found = db::WebSessionsRepo(session.database()).find_live(sha256_hex(*cookie), db::now_ms());
    }
    if (!found) throw ApiError(http::status::unauthorized, "session expired or unknown; log in again");
    if (changes_state(request.method)) {
        auto header = request.headers.find(kCsrfHeader);
        if (header == request.headers.end() || !same_secret(header->value(), found->csrf_token))
            throw ApiError(http::status::forbidden, "CSRF token missing or wrong");
    }
    request.principal = Principal{found->user_id, found->user_name, false};
}

std::pair<db::ApiToken, std::string> Authenticator::create_token(
    std::int64_t user_id, std::string_view name, std::string_view scope,
    std::optional<std::chrono::seconds> lifetime) {
    std::string secret = random_token();
    std::optional<std::int64_t> expires_at;
    if (lifetime) expires_at = db::now_ms() + std::chrono::milliseconds(*lifetime).count();
    auto session = catalog_.session();
    auto token =
        db::ApiTokensRepo(session.database()).create(user_id, name, sha256_hex(secret), scope, expires_at);
    return {std::move(token), std::move(secret)};
}

std::string session_cookie(std::string_view token, bool secure) {
    std::string cookie =
        std::string(kSessionCookie) + "=" + std::string(token) + "; HttpOnly; SameSite=Strict; Path=/";
    if (token.empty()) cookie += "; Max-Age=0";
    if (secure) cookie += "; Secure";
    return cookie;
}

}  // namespace bootherd::web
