#include <doctest/doctest.h>

#include "common/rate_limited_log.hpp"

using bootherd::RateLimitedLog;
using namespace std::chrono_literals;

TEST_CASE("rate limited log: a burst per interval, the rest counted") {
    RateLimitedLog limiter(3, 10s);
    auto now = RateLimitedLog::Clock::time_point(100s);
    CHECK(limiter.warn("one", now));
    CHECK(limiter.warn("two", now + 1s));
    CHECK(limiter.warn("three", now + 2s));
    CHECK_FALSE(limiter.warn("four", now + 3s));
    CHECK_FALSE(limiter.warn("five", now + 9s));
    CHECK(limiter.suppressed() == 2);
    CHECK(limiter.warn("next interval", now + 10s));
    CHECK(limiter.suppressed() == 0);
    CHECK(limiter.error("errors share the budget", now + 11s));
    CHECK(limiter.error("three", now + 12s));
    CHECK_FALSE(limiter.error("four", now + 13s));
}
