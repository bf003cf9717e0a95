#pragma once
// Who may use the API: operator accounts with passwords, browser sessions (cookie + CSRF token) and API
// tokens for scripts. Secrets are random 256-bit values; the catalog keeps only their SHA-256.
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "db/api_tokens_repo.hpp"
#include "db/catalog.hpp"
#include "web/http_message.hpp"
#include "web/login_throttle.hpp"

namespace bootherd::web {

inline constexpr std::string_view kSessionCookie = "bootherd_session";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";
inline constexpr std::string_view kAdminUser = "admin";

struct LoginSession {
    std::string username{};
    std::string session_token{};  // the cookie value
    std::string csrf_token{};
};

// What a login attempt came to: a session, or a refusal (throttled: retry_after > 0, checked before any
// hashing; else wrong credentials, with the lock this failure started in locked_for).
struct LoginOutcome {
    std::optional<LoginSession> session{};
    std::chrono::seconds retry_after{0};
    std::chrono::seconds locked_for{0};
};

class Authenticator {
  public:
    explicit Authenticator(db::Catalog& catalog) : catalog_(catalog) {}

    // When no account exists: creates "admin" with a random password and returns that password.
    std::optional<std::string> ensure_admin();
    // Creates the user or replaces their password (and ends their browser sessions). InvalidArgument for a
    // password shorter than 8 characters.
    void set_password(std::string_view username, std::string_view password);

    // Refuses a throttled client before hashing; records failures and successes in the throttle.
    LoginOutcome login(std::string_view username, std::string_view password,
                       const boost::asio::ip::address& client);
    // Ends the session; 403 when the session is live and the CSRF token does not match it.
    void logout(std::string_view session_token, std::string_view csrf_token);
    // The session of a cookie, for GET /me.
    std::optional<LoginSession> session(std::string_view session_token);

    // The gate for protected routes: a Bearer token (401 when unknown or expired, 403 for a read-scoped
    // one on a method that changes state), or a session cookie (plus the CSRF header when the method
    // changes state). Sets request.principal; throws ApiError 401 or 403.
    void authenticate(Request& request);

    // A new API token for the user: the stored row and the secret (shown once). `lifetime` nullopt: never
    // expires.
    std::pair<db::ApiToken, std::string> create_token(std::int64_t user_id, std::string_view name,
                                                      std::string_view scope = db::kTokenScopeAdmin,
                                                      std::optional<std::chrono::seconds> lifetime = {});

  private:
    db::Catalog& catalog_;
    LoginThrottle throttle_{};
};

// The Set-Cookie value for a session (Secure under TLS); an empty token expires the cookie.
std::string session_cookie(std::string_view token, bool secure);

}  // namespace bootherd::web
