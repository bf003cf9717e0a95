#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <ctime>
#include <sstream>

#include "tools/bootherd/cli_output.hpp"

using bootherd::cli::local_time;
using bootherd::cli::Table;

TEST_CASE("table: columns as wide as their widest cell, the last one unpadded") {
    Table table({"NAME", "MAC", "STATUS"});
    table.add({"pc1", "52:54:00:00:00:01", "off"});
    table.add({"a-long-name", "-", "booted"});
    std::ostringstream out;
    table.print(out);
    CHECK(out.str() ==
          "NAME         MAC                STATUS\n"
          "pc1          52:54:00:00:00:01  off\n"
          "a-long-name  -                  booted\n");
    CHECK_THROWS_AS(table.add({"too", "few"}), std::invalid_argument);
}

TEST_CASE("json: one document per line, parseable back") {
    std::ostringstream out;
    bootherd::cli::print_json(out, boost::json::object{{"name", "base"}, {"versions", 2}});
    CHECK(out.str().back() == '\n');
    CHECK(boost::json::parse(out.str()).at("versions").as_int64() == 2);
}

TEST_CASE("local time: ISO-8601 with the zone's offset as +hh:mm, '-' for none") {
    const char* saved = std::getenv("TZ");
    const std::string restore = saved ? saved : "";
    setenv("TZ", "CET-1", 1);
    tzset();
    CHECK(local_time(1796350507000) == "2026-12-04T03:15:07+01:00");
    setenv("TZ", "UTC0", 1);
    tzset();
    CHECK(local_time(0) == "1970-01-01T00:00:00+00:00");
    CHECK(local_time(std::nullopt) == "-");
    if (saved)
        setenv("TZ", restore.c_str(), 1);
    else
        unsetenv("TZ");
    tzset();
}
