#include <doctest/doctest.h>

#include "web/api_error.hpp"
#include "web/origin_check.hpp"

using namespace bootherd::web;

namespace {
http::fields headers(std::initializer_list<std::pair<const char*, const char*>> list) {
    http::fields out;
    for (const auto& [name, value] : list)
        out.set(name, value);
    return out;
}
}  // namespace

TEST_CASE("Origin must match Host") {
    CHECK(same_origin(headers({{"Host", "boot.lan:8080"}, {"Origin", "http://boot.lan:8080"}})));
    CHECK(same_origin(headers({{"Host", "Boot.LAN:8080"}, {"Origin", "http://boot.lan:8080"}})));
    CHECK(same_origin(headers({{"Host", "boot.lan"}, {"Origin", "http://boot.lan"}})));
    CHECK(same_origin(headers({{"Host", "boot.lan"}, {"Origin", "https://boot.lan:443"}})));
    CHECK(same_origin(headers({{"Host", "[::1]:8080"}, {"Origin", "http://[::1]:8080"}})));
    CHECK_FALSE(same_origin(headers({{"Host", "boot.lan:8080"}, {"Origin", "http://evil.example"}})));
    CHECK_FALSE(same_origin(headers({{"Host", "boot.lan:8080"}, {"Origin", "http://boot.lan:8081"}})));
    CHECK_FALSE(same_origin(headers({{"Host", "boot.lan:80"}, {"Origin", "https://boot.lan"}})));
    CHECK_FALSE(same_origin(headers({{"Host", "boot.lan"}, {"Origin", "null"}})));
    CHECK_FALSE(same_origin(headers({{"Host", "boot.lan"}, {"Origin", "file://"}})));
    CHECK_FALSE(same_origin(headers({{"Host", "boot.lan"}, {"Origin", "http://boot.lan@evil.example"}})));
    CHECK_FALSE(same_origin(headers({{"Origin", "http://boot.lan"}})));  // no Host to compare with
}

TEST_CASE("Sec-Fetch-Site is honoured when present") {
    CHECK(same_origin(headers({{"Host", "boot.lan"}, {"Sec-Fetch-Site", "same-origin"}})));
    CHECK(same_origin(headers({{"Host", "boot.lan"}, {"Sec-Fetch-Site", "none"}})));
    CHECK_FALSE(same_origin(headers({{"Host", "boot.lan"}, {"Sec-Fetch-Site", "cross-site"}})));
    CHECK_FALSE(same_origin(headers({{"Host", "boot.lan"}, {"Sec-Fetch-Site", "same-site"}})));
    CHECK_FALSE(same_origin(
        headers({{"Host", "boot.lan"}, {"Origin", "http://boot.lan"}, {"Sec-Fetch-Site", "cross-site"}})));
}

TEST_CASE("clients that send neither header (curl, scripts) are allowed") {
    CHECK(same_origin(headers({{"Host", "boot.lan"}})));
    Request request;
    request.headers = headers({{"Host", "boot.lan"}, {"Origin", "http://evil.example"}});
    CHECK_THROWS_AS(require_same_origin(request), ApiError);
}
