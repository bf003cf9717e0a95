#include <doctest/doctest.h>

#include <boost/asio/ip/address.hpp>

#include "db/catalog.hpp"
#include "db/error.hpp"
#include "db/users_repo.hpp"
#include "web/api_error.hpp"
#include "web/auth.hpp"
#include "web/password_hash.hpp"

using namespace bootherd;
using namespace bootherd::web;

TEST_CASE("password hashes are salted and verify only the right password") {
    const auto a = hash_password("correct horse", 1000);
    const auto b = hash_password("correct horse", 1000);
    CHECK(a != b);
    CHECK(a.starts_with("pbkdf2-sha256$1000$"));
    CHECK(verify_password("correct horse", a));
    CHECK(verify_password("correct horse", b));
    CHECK_FALSE(verify_password("correct horsE", a));
    CHECK_FALSE(verify_password("correct horse", "pbkdf2-sha256$1000$zz$00"));
    CHECK_FALSE(verify_password("correct horse", "md5$1$aa$bb"));
    CHECK_FALSE(verify_password("correct horse", a + "$extra"));
    CHECK_FALSE(verify_password("correct horse", ""));
    CHECK(hash_password("x").find("$" + std::to_string(kPasswordIterations) + "$") != std::string::npos);
    CHECK(kPasswordIterations >= 200000);
}

TEST_CASE("sha256_hex matches the known digest") {
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(random_token().size() == 64);
    CHECK(random_token() != random_token());
}

namespace {
const auto kClient = boost::asio::ip::make_address("192.0.2.7");

std::optional<LoginSession> login(Authenticator& auth, std::string_view user, std::string_view password) {
    return auth.login(user, password, kClient).session;
}

Request with_cookie(const std::string& token, http::verb method) {
    Request request;
    request.method = method;
    request.headers.set(http::field::cookie, "other=1; bootherd_session=" + token);
    return request;
}
http::status status_of(Authenticator& auth, Request& request) {
    try {
        auth.authenticate(request);
        return http::status::ok;
    } catch (const ApiError& e) {
        return e.status();
    }
}
}  // namespace

TEST_CASE("admin account, login, CSRF, tokens, logout") {
    auto catalog = db::Catalog::open_in_memory();
    Authenticator auth(catalog);
    const auto password = auth.ensure_admin();
    REQUIRE(password);
    CHECK_FALSE(auth.ensure_admin());  // only once
    {
        auto session = catalog.session();
        const auto user = db::UsersRepo(session.database()).find_by_name("admin");
        REQUIRE(user);
        CHECK(user->password_hash.find(*password) == std::string::npos);
    }

    CHECK_FALSE(login(auth, "admin", "wrong"));
    CHECK_FALSE(login(auth, "nobody", *password));
    const auto first = login(auth, "admin", *password);
    REQUIRE(first);

    auto get = with_cookie(first->session_token, http::verb::get);
    CHECK(status_of(auth, get) == http::status::ok);
    CHECK(get.principal->username == "admin");

    auto post = with_cookie(first->session_token, http::verb::post);
    CHECK(status_of(auth, post) == http::status::forbidden);
    post.headers.set(kCsrfHeader, "wrong");
    CHECK(status_of(auth, post) == http::status::forbidden);
    post.headers.set(kCsrfHeader, first->csrf_token);
    CHECK(status_of(auth, post) == http::status::ok);

    auto forged = with_cookie("f00", http::verb::get);
    CHECK(status_of(auth, forged) == http::status::unauthorized);
    Request nothing;
    CHECK(status_of(auth, nothing) == http::status::unauthorized);

    auto [token, secret] = auth.create_token(get.principal->user_id, "ci");
    Request bearer;
    bearer.method = http::verb::delete_;  // no CSRF needed with a token
    bearer.headers.set(http::field::authorization, "Bearer " + secret);
    CHECK(status_of(auth, bearer) == http::status::ok);
    CHECK(bearer.principal->via_token);
    Request basic;
    basic.headers.set(http::field::authorization, "Basic YWRtaW46eA==");
    CHECK(status_of(auth, basic) == http::status::unauthorized);

    auth.set_password("admin", "a-new-password");
    CHECK(status_of(auth, get) == http::status::unauthorized);  // sessions end with a password change
    CHECK_FALSE(login(auth, "admin", *password));
    CHECK(login(auth, "admin", "a-new-password"));
    CHECK_THROWS(auth.set_password("admin", "short"));

    const auto again = login(auth, "admin", "a-new-password");
    CHECK_THROWS_AS(auth.logout(again->session_token, "wrong"), ApiError);  // logout needs the CSRF token
    CHECK(auth.session(again->session_token));
    auth.logout(again->session_token, again->csrf_token);
    CHECK_FALSE(auth.session(again->session_token));
    auth.logout(again->session_token, "");  // an unknown session: nothing to end
}

TEST_CASE("a throttled login is refused before the password is checked") {
    auto catalog = db::Catalog::open_in_memory();
    Authenticator auth(catalog);
    auth.set_password("admin", "the-password");
    for (unsigned i = 0; i < LoginThrottle::kFreeFailures; ++i) {
        const auto outcome = auth.login("admin", "wrong", kClient);
        CHECK_FALSE(outcome.session);
        CHECK(outcome.retry_after.count() == 0);
        CHECK(outcome.locked_for.count() == (i + 1 == LoginThrottle::kFreeFailures ? 1 : 0));
    }
    const auto refused = auth.login("admin", "the-password", kClient);  // even the right password waits
    CHECK_FALSE(refused.session);
    CHECK(refused.retry_after.count() == 1);
    // Another address is not held back by this one's failures.
    CHECK(auth.login("admin", "the-password", boost::asio::ip::make_address("192.0.2.8")).session);
}

namespace {
Request with_bearer(const std::string& secret, http::verb method) {
    Request request;
    request.method = method;
    request.headers.set(http::field::authorization, "Bearer " + secret);
    return request;
}
}  // namespace

TEST_CASE("API token scope and expiry") {
    auto catalog = db::Catalog::open_in_memory();
    Authenticator auth(catalog);
    auth.set_password("admin", "the-password");
    const auto user = login(auth, "admin", "the-password");
    REQUIRE(user);
    auto me = with_cookie(user->session_token, http::verb::get);
    REQUIRE(status_of(auth, me) == http::status::ok);
    const auto user_id = me.principal->user_id;

    auto [reader, read_secret] = auth.create_token(user_id, "prometheus", db::kTokenScopeRead);
    CHECK(reader.scope == "read");
    CHECK_FALSE(reader.expires_at);
    for (auto method : {http::verb::get, http::verb::head}) {
        auto request = with_bearer(read_secret, method);
        CHECK(status_of(auth, request) == http::status::ok);
    }
    for (auto method :
         {http::verb::post, http::verb::put, http::verb::patch, http::verb::delete_, http::verb::options}) {
        auto request = with_bearer(read_secret, method);
        CHECK(status_of(auth, request) == http::status::forbidden);
    }

    auto [admin, admin_secret] =
        auth.create_token(user_id, "ci", db::kTokenScopeAdmin, std::chrono::hours(1));
    REQUIRE(admin.expires_at);
    CHECK(*admin.expires_at > admin.created_at);
    auto post = with_bearer(admin_secret, http::verb::post);
    CHECK(status_of(auth, post) == http::status::ok);

    auto [expired, expired_secret] =
        auth.create_token(user_id, "old", db::kTokenScopeAdmin, std::chrono::seconds(1));
    {
        auto session = catalog.session();
        session.database().exec("UPDATE api_tokens SET expires_at = 1 WHERE id = " +
                                std::to_string(expired.id));
    }
    auto late = with_bearer(expired_secret, http::verb::get);
    CHECK(status_of(auth, late) == http::status::unauthorized);

    CHECK_THROWS_AS(auth.create_token(user_id, "x", "root"), db::InvalidArgument);
}

TEST_CASE("session cookie attributes") {
    CHECK(session_cookie("t", false) == "bootherd_session=t; HttpOnly; SameSite=Strict; Path=/");
    CHECK(session_cookie("t", true).ends_with("; Secure"));
    CHECK(session_cookie("", false).find("Max-Age=0") != std::string::npos);
}
