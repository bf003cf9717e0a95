#include <doctest/doctest.h>

#include "web/login_throttle.hpp"

using namespace bootherd::web;
using namespace std::chrono_literals;
namespace ip = boost::asio::ip;

TEST_CASE("failures back off exponentially up to the cap, per address") {
    LoginThrottle throttle;
    const auto client = ip::make_address("198.51.100.1");
    const auto t0 = LoginThrottle::Clock::time_point{} + 1h;
    for (unsigned i = 1; i < LoginThrottle::kFreeFailures; ++i) {
        CHECK(throttle.record_failure(client, "admin", t0) == 0s);
        CHECK_FALSE(throttle.retry_after(client, "admin", t0));
    }
    CHECK(throttle.record_failure(client, "admin", t0) == 1s);
    CHECK(throttle.retry_after(client, "admin", t0) == 1s);
    CHECK_FALSE(throttle.retry_after(client, "admin", t0 + 1s));
    CHECK(throttle.record_failure(client, "admin", t0 + 1s) == 2s);
    CHECK(throttle.record_failure(client, "admin", t0 + 3s) == 4s);
    auto t = t0 + 7s;
    std::chrono::seconds lock{};
    for (int i = 0; i < 20; ++i)
        lock = throttle.record_failure(client, "other-" + std::to_string(i), t);
    CHECK(lock == LoginThrottle::kMaxLock);
    CHECK(throttle.retry_after(client, "anyone", t + 1s) == LoginThrottle::kMaxLock - 1s);
    // A success (from elsewhere) does not lift this address's lock; the lock's end does.
    throttle.record_success(ip::make_address("198.51.100.2"), "admin");
    CHECK(throttle.retry_after(client, "admin", t + 1s));
    CHECK_FALSE(throttle.retry_after(client, "admin", t + LoginThrottle::kMaxLock));
    // Quiet for the forget window: it starts over.
    const auto later = t + LoginThrottle::kForget;
    CHECK(throttle.record_failure(client, "admin", later) == 0s);
}

TEST_CASE("a locked user holds back only addresses that failed themselves") {
    LoginThrottle throttle;
    const auto t0 = LoginThrottle::Clock::time_point{} + 1h;
    // A distributed guesser: each address fails once, the user collects the failures.
    for (int i = 1; i <= 10; ++i)
        throttle.record_failure(ip::make_address("203.0.113." + std::to_string(i)), "admin", t0);
    CHECK(throttle.retry_after(ip::make_address("203.0.113.1"), "admin", t0));
    CHECK_FALSE(throttle.retry_after(ip::make_address("203.0.113.1"), "bob", t0));
    CHECK_FALSE(throttle.retry_after(ip::make_address("192.0.2.50"), "admin", t0));  // the real admin
}

TEST_CASE("IPv6 clients are counted per /64, IPv4-mapped as IPv4") {
    CHECK(address_key(ip::make_address("2001:db8:1:2:aaaa::1")) ==
          address_key(ip::make_address("2001:db8:1:2:bbbb::2")));
    CHECK(address_key(ip::make_address("2001:db8:1:3::1")) !=
          address_key(ip::make_address("2001:db8:1:2::1")));
    CHECK(address_key(ip::make_address("::ffff:192.0.2.1")) == address_key(ip::make_address("192.0.2.1")));
}

TEST_CASE("the table is bounded: the least recently failed key is evicted") {
    LoginThrottle throttle(100);
    const auto t0 = LoginThrottle::Clock::time_point{} + 1h;
    const auto first = ip::make_address("10.0.0.1");
    for (unsigned i = 0; i < LoginThrottle::kFreeFailures; ++i)
        throttle.record_failure(first, "admin", t0);
    REQUIRE(throttle.retry_after(first, "admin", t0));
    for (int i = 0; i < 1000; ++i) {
        throttle.record_failure(
            ip::make_address("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256)),
            std::string(200, 'x') + std::to_string(i), t0);
        CHECK(throttle.size() <= 100);
    }
    CHECK_FALSE(throttle.retry_after(first, "admin", t0));  // evicted
}
