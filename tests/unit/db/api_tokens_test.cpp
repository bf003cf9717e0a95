#include <doctest/doctest.h>

#include "db/api_tokens_repo.hpp"
#include "db/catalog.hpp"
#include "db/error.hpp"
#include "db/users_repo.hpp"

using namespace bootherd::db;

TEST_CASE("API tokens keep their scope and expiry; admin and no expiry by default") {
    auto catalog = Catalog::open_in_memory();
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
