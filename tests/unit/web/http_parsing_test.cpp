#include <doctest/doctest.h>

#include "web/http_parsing.hpp"

using namespace bootherd::web;

TEST_CASE("percent_decode") {
    CHECK(percent_decode("a%20b", false) == "a b");
    CHECK(percent_decode("a+b", false) == "a+b");
    CHECK(percent_decode("a+b", true) == "a b");
    CHECK(percent_decode("%41%6a", false) == "Aj");
    CHECK_FALSE(percent_decode("%", false));
    CHECK_FALSE(percent_decode("%4", false));
    CHECK_FALSE(percent_decode("abc%", false));
    CHECK_FALSE(percent_decode("%zz", false));
    CHECK_FALSE(percent_decode("%00", false));
}

TEST_CASE("parse_query") {
    auto q = parse_query("q=pc%2D0&limit=10&flag&&group=a+b&limit=20");
    REQUIRE(q);
    CHECK(q->at("q") == "pc-0");
    CHECK(q->at("limit") == "20");
    CHECK(q->at("flag").empty());
    CHECK(q->at("group") == "a b");
    CHECK(parse_query("")->empty());
    CHECK_FALSE(parse_query("a=%zz"));
    std::string many;
    for (int i = 0; i < 65; ++i)
        many += "k" + std::to_string(i) + "=1&";
    CHECK_FALSE(parse_query(many));
    CHECK(parse_query(many, 100));
}

TEST_CASE("cookie_value") {
    CHECK(cookie_value("bootherd_session=abc", "bootherd_session") == "abc");
    CHECK(cookie_value("a=1; bootherd_session=xyz ; c=3", "bootherd_session") == "xyz");
    CHECK(cookie_value("a=1;bootherd_session=\"q\"", "bootherd_session") == "q");
    CHECK_FALSE(cookie_value("xbootherd_session=abc", "bootherd_session"));
    CHECK_FALSE(cookie_value("bootherd_session", "bootherd_session"));
    CHECK_FALSE(cookie_value("", "bootherd_session"));
    CHECK(cookie_value("bootherd_session=", "bootherd_session") == "");
}

TEST_CASE("bearer_token") {
    CHECK(bearer_token("Bearer abc") == "abc");
    CHECK(bearer_token("bearer   abc ") == "abc");
    CHECK_FALSE(bearer_token("Basic abc"));
    CHECK_FALSE(bearer_token("Bearer "));
    CHECK_FALSE(bearer_token("Bearer"));
    CHECK_FALSE(bearer_token(""));
}

TEST_CASE("split_target") {
    auto [path, query] = split_target("/a/b?c=d?e");
    CHECK(path == "/a/b");
    CHECK(query == "c=d?e");
    auto [only, none] = split_target("/x");
    CHECK(only == "/x");
    CHECK(none.empty());
}

TEST_CASE("parse_byte_range") {
    using Kind = ByteRange::Kind;
    auto range = parse_byte_range("bytes=100-", 1000);
    CHECK(range.kind == Kind::satisfiable);
    CHECK(range.first == 100);
    CHECK(range.last == 999);
    range = parse_byte_range("bytes=0-9", 1000);
    CHECK((range.kind == Kind::satisfiable && range.first == 0 && range.last == 9));
    range = parse_byte_range("bytes=990-5000", 1000);
    CHECK((range.kind == Kind::satisfiable && range.first == 990 && range.last == 999));
    range = parse_byte_range("bytes=-10", 1000);
    CHECK((range.kind == Kind::satisfiable && range.first == 990 && range.last == 999));
    range = parse_byte_range("bytes=-5000", 1000);
    CHECK((range.kind == Kind::satisfiable && range.first == 0 && range.last == 999));
    CHECK(parse_byte_range("bytes=1000-", 1000).kind == Kind::unsatisfiable);
    CHECK(parse_byte_range("bytes=0-", 0).kind == Kind::unsatisfiable);
    CHECK(parse_byte_range("bytes=-0", 1000).kind == Kind::unsatisfiable);
    for (const char* ignored : {"", "bytes", "bytes=", "bytes=-", "items=0-1", "bytes=5-1", "bytes=0-1,5-9",
                                "bytes=x-", "bytes=1-y", "bytes=99999999999999999999-", "bytes=+1-"})
        CHECK_MESSAGE(parse_byte_range(ignored, 1000).kind == Kind::ignored, ignored);
}
