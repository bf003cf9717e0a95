#include <doctest/doctest.h>

#include "common/log.hpp"

using namespace bootherd::log;

TEST_CASE("log line: plain has the timestamp and the level name") {
    CHECK(format_line(Format::plain, Level::info, "2026-12-03T22:12:32.120Z", "serving") ==
          "2026-12-03T22:12:32.120Z info  serving\n");
    CHECK(format_line(Format::plain, Level::error, "2026-12-03T22:12:32.120Z", "bad") ==
          "2026-12-03T22:12:32.120Z error bad\n");
}

TEST_CASE("log line: under journald the syslog priority leads and the timestamp is dropped") {
    CHECK(format_line(Format::journald, Level::error, "2026-12-03T22:12:32.120Z", "bad") == "<3>bad\n");
    CHECK(format_line(Format::journald, Level::warn, "", "careful") == "<4>careful\n");
    CHECK(format_line(Format::journald, Level::info, "", "serving") == "<6>serving\n");
    CHECK(format_line(Format::journald, Level::debug, "", "detail") == "<7>detail\n");
}
