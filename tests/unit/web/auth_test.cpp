#include <doctest/doctest.h>

#include "db/catalog.hpp"
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

    CHECK_FALSE(auth.login("admin", "wrong"));
    CHECK_FALSE(auth.login("nobody", *password));
    const auto login = auth.login("admin", *password);
    REQUIRE(login);

    auto get = with_cookie(login->session_token, http::verb::get);
    CHECK(status_of(auth, get) == http::status::ok);
    CHECK(get.principal->username == "admin");

    auto post = with_cookie(login->session_token, http::verb::post);
    CHECK(status_of(auth, post) == http::status::forbidden);
    post.headers.set(kCsrfHeader, "wrong");
    CHECK(status_of(auth, post) == http::status::forbidden);
    post.headers.set(kCsrfHeader, login->csrf_token);
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
    CHECK_FALSE(auth.login("admin", *password));
    CHECK(auth.login("admin", "a-new-password"));
    CHECK_THROWS(auth.set_password("admin", "short"));

    const auto again = auth.login("admin", "a-new-password");
    auth.logout(again->session_token);
    CHECK_FALSE(auth.session(again->session_token));
}

TEST_CASE("session cookie attributes") {
    CHECK(session_cookie("t", false) == "bootherd_session=t; HttpOnly; SameSite=Strict; Path=/");
    CHECK(session_cookie("t", true).ends_with("; Secure"));
    CHECK(session_cookie("", false).find("Max-Age=0") != std::string::npos);
}
