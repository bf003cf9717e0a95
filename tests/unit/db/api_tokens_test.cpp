#include <doctest/doctest.h>

#include "db/api_tokens_repo.hpp"
#include "db/catalog.hpp"
#include "db/error.hpp"
#include "db/users_repo.hpp"
#include "db/web_sessions_repo.hpp"
#include "test_catalog.hpp"

using namespace bootherd::db;

TEST_CASE("API tokens keep their scope and expiry; admin and no expiry by default") {
    auto catalog = test::fresh_catalog();
    auto session = catalog.session();
    const auto user = UsersRepo(session.database()).create("admin", "hash");
    ApiTokensRepo tokens(session.database());

    const auto plain = tokens.create(user.id, "ci", "h1");
    CHECK(plain.scope == "admin");
    CHECK_FALSE(plain.expires_at);
    const auto reader = tokens.create(user.id, "prometheus", "h2", kTokenScopeRead, 1234);
    CHECK(reader.scope == "read");
    CHECK(reader.expires_at == 1234);

    const auto found = tokens.find_by_hash("h2");
    REQUIRE(found);
    CHECK(found->scope == "read");
    CHECK(found->expires_at == 1234);
    CHECK(tokens.list().size() == 2);

    CHECK_THROWS_AS(tokens.create(user.id, "x", "h3", "root"), InvalidArgument);
    CHECK_FALSE(tokens.find_by_hash("h3"));
}

TEST_CASE("users: the last login comes from the newest session or audited login, whichever is later") {
    auto catalog = test::fresh_catalog();
    auto session = catalog.session();
    UsersRepo users(session.database());
    const auto admin = users.create("admin", "hash");
    const auto ops = users.create("ops", "hash");
    const auto idle = users.create("idle", "hash");
    CHECK(users.last_logins().empty());

    WebSessionsRepo(session.database()).create("t1", admin.id, "c1", 9'000'000'000'000);
    session.audit().append({.at = 100, .actor = "admin", .action = "user.login", .target = "user:admin"});
    // A session's logout removes it: the audit entry still tells.
    session.audit().append({.at = 5000, .actor = "OPS", .action = "user.login", .target = "user:ops"});
    session.audit().append({.at = 9000, .actor = "ops", .action = "token.create", .target = "token:1"});
    session.audit().append(
        {.at = 9500, .actor = "idle", .action = "auth.login_failed", .target = "user:idle"});

    const auto last = users.last_logins();
    CHECK(last.size() == 2);
    CHECK(last.at(admin.id) > 100);  // the session is newer (created now)
    CHECK(last.at(ops.id) == 5000);
    CHECK_FALSE(last.contains(idle.id));
}
