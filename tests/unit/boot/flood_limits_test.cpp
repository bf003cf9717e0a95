// The building blocks of the flood limits: the token bucket and the bounded memory of recent MACs.
#include <doctest/doctest.h>

#include <chrono>

#include "boot/recent_macs.hpp"
#include "boot/token_bucket.hpp"
#include "dhcp_test_packets.hpp"

using namespace bootherd::boot;
using namespace bootherd::boot::testing;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST_CASE("token bucket: a burst, then the rate; a clock going backwards refills nothing") {
    TokenBucket<Clock> bucket(10, 3);
    auto now = Clock::time_point(1h);
    for (int i = 0; i < 3; ++i)
        CHECK(bucket.take(now));
    CHECK_FALSE(bucket.take(now));
    now += 100ms;  // one token
    CHECK(bucket.take(now));
    CHECK_FALSE(bucket.take(now));
    CHECK_FALSE(bucket.take(now - 10s));
    now += 1h;  // never more than the burst saved up
    for (int i = 0; i < 3; ++i)
        CHECK(bucket.take(now));
    CHECK_FALSE(bucket.take(now));
    TokenBucket<Clock> closed(0, 0);
    CHECK_FALSE(closed.take(now));
}

TEST_CASE("recent MACs: remembered for the window, bounded in number") {
    RecentMacs<Clock> recent(2, 10s);
    const auto now = Clock::time_point(1h);
    CHECK(recent.note(test_mac(1), now));
    CHECK(recent.note(test_mac(2), now));
    CHECK(recent.contains(test_mac(1), now + 9s));
    CHECK_FALSE(recent.contains(test_mac(3), now));
    CHECK_FALSE(recent.note(test_mac(3), now + 1s));  // full of fresh entries
    CHECK(recent.size() == 2);
    CHECK(recent.note(test_mac(1), now + 1s));   // refreshing a known one always works
    CHECK(recent.note(test_mac(3), now + 10s));  // mac 2 has expired and makes room
    CHECK_FALSE(recent.contains(test_mac(2), now + 10s));
    CHECK(recent.size() == 2);
}
