#include <doctest/doctest.h>

#include "web/router.hpp"

using namespace bootherd::web;

namespace {
Handler named(std::string name) {
    return [name](Request&) { return text_response(name, "text/plain"); };
}
std::string run(const Router::Match& match) {
    Request request;
    return match.route->handler(request).body;
}
}  // namespace

TEST_CASE("router matches literal and parameter segments") {
    Router router;
    router.add(http::verb::get, "/api/v1/nodes", named("list"));
    router.add(http::verb::post, "/api/v1/nodes/import", named("import"));
    router.add(http::verb::get, "/api/v1/nodes/{name}", named("get"));
    router.add(http::verb::patch, "/api/v1/nodes/{name}", named("patch"));
    router.add(http::verb::get, "/boot/{mac}.ipxe", named("boot"));

    auto m = router.match(http::verb::get, "/api/v1/nodes");
    REQUIRE(m.kind == Router::Match::Kind::found);
    CHECK(run(m) == "list");

    m = router.match(http::verb::get, "/api/v1/nodes/pc%2D01");
    REQUIRE(m.kind == Router::Match::Kind::found);
    CHECK(run(m) == "get");
    CHECK(m.params.at("name") == "pc-01");

    m = router.match(http::verb::patch, "/api/v1/nodes/x");
    CHECK(run(m) == "patch");

    m = router.match(http::verb::post, "/api/v1/nodes/import");
    CHECK(run(m) == "import");

    m = router.match(http::verb::get, "/boot/52:54:00:12:34:56.ipxe");
    REQUIRE(m.kind == Router::Match::Kind::found);
    CHECK(m.params.at("mac") == "52:54:00:12:34:56");
}

TEST_CASE("router distinguishes 404 and 405, and HEAD follows GET") {
    Router router;
    router.add(http::verb::get, "/api/v1/nodes/{name}", named("get"));
    CHECK(router.match(http::verb::delete_, "/api/v1/nodes/a").kind ==
          Router::Match::Kind::method_not_allowed);
    CHECK(router.match(http::verb::get, "/api/v1/nodes").kind == Router::Match::Kind::not_found);
    CHECK(router.match(http::verb::get, "/api/v1/nodes/a/b").kind == Router::Match::Kind::not_found);
    CHECK(router.match(http::verb::head, "/api/v1/nodes/a").kind == Router::Match::Kind::found);
}

TEST_CASE("router refuses empty, slashed, NUL and undecodable parameters") {
    Router router;
    router.add(http::verb::get, "/n/{name}", named("get"));
    router.add(http::verb::get, "/boot/{mac}.ipxe", named("boot"));
    CHECK(router.match(http::verb::get, "/n/").kind == Router::Match::Kind::not_found);
    CHECK(router.match(http::verb::get, "/n/a%2Fb").kind == Router::Match::Kind::not_found);
    CHECK(router.match(http::verb::get, "/n/%00").kind == Router::Match::Kind::not_found);
    CHECK(router.match(http::verb::get, "/n/%G1").kind == Router::Match::Kind::not_found);
    CHECK(router.match(http::verb::get, "/boot/.ipxe").kind == Router::Match::Kind::not_found);
    CHECK(router.match(http::verb::get, "/boot/x.pxe").kind == Router::Match::Kind::not_found);
    CHECK(router.match(http::verb::get, "n/a").kind == Router::Match::Kind::not_found);
    CHECK(router.match(http::verb::get, "").kind == Router::Match::Kind::not_found);
}

TEST_CASE("router rejects malformed patterns") {
    Router router;
    CHECK_THROWS_AS(router.add(http::verb::get, "nodes", named("x")), std::invalid_argument);
    CHECK_THROWS_AS(router.add(http::verb::get, "/{}", named("x")), std::invalid_argument);
    CHECK_THROWS_AS(router.add(http::verb::get, "/{open", named("x")), std::invalid_argument);
}
