#include <doctest/doctest.h>

#include "db/csv.hpp"

using namespace bootherd::db;

TEST_CASE("plain CSV with LF and CRLF line ends, blank lines skipped") {
    const auto doc = parse_csv("a,b,c\r\n1,2,3\n\n\r\n4,,6\n");
    REQUIRE(doc.errors.empty());
    REQUIRE(doc.records.size() == 3);
    CHECK(doc.records[0].line == 1);
    CHECK(doc.records[1].fields == std::vector<std::string>{"1", "2", "3"});
    CHECK(doc.records[2].line == 5);
    CHECK(doc.records[2].fields == std::vector<std::string>{"4", "", "6"});
}

TEST_CASE("quoted fields hold commas, doubled quotes and line breaks") {
    const auto doc = parse_csv("\"x,y\",\"say \"\"hi\"\"\",\"two\r\nlines\"\nnext,\"\",end");
    REQUIRE(doc.errors.empty());
    REQUIRE(doc.records.size() == 2);
    CHECK(doc.records[0].fields == std::vector<std::string>{"x,y", "say \"hi\"", "two\r\nlines"});
    CHECK(doc.records[1].line == 3);
    CHECK(doc.records[1].fields == std::vector<std::string>{"next", "", "end"});
}

TEST_CASE("a last record without a line end and a trailing empty field") {
    const auto doc = parse_csv("a,b,");
    REQUIRE(doc.records.size() == 1);
    CHECK(doc.records[0].fields == std::vector<std::string>{"a", "b", ""});
}

TEST_CASE("syntax errors are reported by line and reading resumes on the next line") {
    const auto doc = parse_csv("ok,1\nbad\"quote,2\n\"closed\"junk,3\nfine,4\n\"never closed,5\nlost,6\n");
    REQUIRE(doc.errors.size() == 3);
    CHECK(doc.errors[0].line == 2);
    CHECK(doc.errors[1].line == 3);
    CHECK(doc.errors[2].line == 5);
    CHECK(doc.errors[2].message.find("not closed") != std::string::npos);
    REQUIRE(doc.records.size() == 2);
    CHECK(doc.records[0].fields.front() == "ok");
    CHECK(doc.records[1].fields.front() == "fine");
    CHECK(doc.records[1].line == 4);
}

TEST_CASE("a leading UTF-8 byte-order mark is not part of the first field") {
    const auto doc = parse_csv("\xEF\xBB\xBFname,mac\n");
    REQUIRE(doc.records.size() == 1);
    CHECK(doc.records[0].fields.front() == "name");
}
