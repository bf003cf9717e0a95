#include <doctest/doctest.h>

#include "web/api_error.hpp"
#include "web/json_input.hpp"

using namespace bootherd::web;

namespace {
std::string field_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const ApiError& e) {
        CHECK(e.status() == http::status::bad_request);
        return e.field();
    }
    FAIL("no ApiError");
    return {};
}
}  // namespace

TEST_CASE("parse_object accepts objects only") {
    CHECK(parse_object(R"({"a": 1})").at("a").as_int64() == 1);
    CHECK_THROWS_AS(parse_object("[1]"), ApiError);
    CHECK_THROWS_AS(parse_object("{"), ApiError);
    CHECK_THROWS_AS(parse_object(""), ApiError);
    CHECK_THROWS_AS(parse_object(std::string(100, '[') + std::string(100, ']')), ApiError);
}

TEST_CASE("typed fields name the field at fault") {
    const auto o = parse_object(R"({"s": "x", "n": null, "b": true, "i": 7, "big": 18446744073709551615,
                                    "arr": [1], "wrong": 1.5})");
    CHECK(required_string(o, "s") == "x");
    CHECK(field_of([&] { required_string(o, "missing"); }) == "missing");
    CHECK(field_of([&] { required_string(o, "i"); }) == "i");
    CHECK_FALSE(optional_string(o, "missing"));
    auto cleared = nullable_string(o, "n");
    REQUIRE(cleared);
    CHECK_FALSE(*cleared);
    CHECK(optional_bool(o, "b") == true);
    CHECK(field_of([&] { optional_bool(o, "s"); }) == "s");
    CHECK(required_int(o, "i") == 7);
    CHECK(field_of([&] { required_int(o, "big"); }) == "big");
    CHECK(field_of([&] { required_int(o, "wrong"); }) == "wrong");
    CHECK(required_array(o, "arr").size() == 1);
    CHECK(field_of([&] { required_array(o, "s"); }) == "s");
}

TEST_CASE("query_int bounds and syntax") {
    Request request;
    request.query = {{"limit", "10"}, {"bad", "1x"}, {"neg", "-5"}, {"empty", ""}};
    CHECK(query_int(request, "limit", 100, 1, 1000) == 10);
    CHECK(query_int(request, "absent", 100, 1, 1000) == 100);
    CHECK(query_int(request, "empty", 100, 1, 1000) == 100);
    CHECK(field_of([&] { query_int(request, "bad", 1, 0, 10); }) == "bad");
    CHECK(field_of([&] { query_int(request, "neg", 1, 0, 10); }) == "neg");
    CHECK(field_of([&] { query_int(request, "limit", 1, 0, 5); }) == "limit");
}
