#include <doctest/doctest.h>

#include <vector>

#include "web/connection_table.hpp"

using namespace bootherd::web;
namespace ip = boost::asio::ip;

TEST_CASE("per-address cap: the address's oldest idle connection makes way, else refusal") {
    ConnectionTable table({.total = 100, .per_address = 2});
    const auto a = ip::make_address("127.0.0.1");
    std::vector<int> closed;
    auto first = table.admit(a);
    auto second = table.admit(a);
    REQUIRE(first);
    REQUIRE(second);
    first->on_evict([&] { closed.push_back(1); });
    second->on_evict([&] { closed.push_back(2); });
    CHECK_FALSE(table.admit(a));  // both busy
    CHECK(table.admit(ip::make_address("127.0.0.2")));
    second->set_state(ConnectionTable::State::idle);
    first->set_state(ConnectionTable::State::idle);
    auto third = table.admit(a);
    REQUIRE(third);
    CHECK(closed == std::vector<int>{2});  // idle the longest
    CHECK(table.size() == 2);
    second.reset();  // the evicted connection ends
    CHECK(table.size() == 2);
    third.reset();
    first.reset();
    CHECK(table.size() == 0);
}

TEST_CASE("global cap: oldest idle connection of anyone makes way; eviction under descriptor pressure") {
    ConnectionTable table({.total = 3, .per_address = 3});
    std::vector<std::optional<ConnectionTable::Ticket>> tickets;
    std::vector<int> closed;
    for (int i = 0; i < 3; ++i) {
        tickets.push_back(table.admit(ip::make_address("10.0.0." + std::to_string(i + 1))));
        REQUIRE(tickets.back());
        tickets.back()->on_evict([&closed, i] { closed.push_back(i); });
    }
    CHECK_FALSE(table.admit(ip::make_address("10.0.0.9")));
    tickets[2]->set_state(ConnectionTable::State::idle);
    tickets[0]->set_state(ConnectionTable::State::idle);
    tickets[0]->set_state(ConnectionTable::State::busy);  // a request arrived: busy again
    tickets[0]->set_state(ConnectionTable::State::idle);
    auto newcomer = table.admit(ip::make_address("10.0.0.9"));
    CHECK(newcomer);
    CHECK(closed == std::vector<int>{2});
    CHECK(table.evictable() == 1);
    CHECK(table.evict(5) == 1);
    CHECK(closed == std::vector<int>{2, 0});
    tickets[0]->set_state(ConnectionTable::State::idle);  // evicted connections never become idle again
    CHECK(table.evictable() == 0);
    CHECK(table.evict(5) == 0);
}

TEST_CASE("connections still reading a header are evicted after idle ones, the longest reading first") {
    ConnectionTable table({.total = 3, .per_address = 2});
    const auto a = ip::make_address("10.0.0.1");
    const auto b = ip::make_address("10.0.0.2");
    std::vector<int> closed;
    auto slow_a = table.admit(a);
    auto slow_b = table.admit(b);
    auto idle_b = table.admit(b);
    slow_a->on_evict([&] { closed.push_back(1); });
    slow_b->on_evict([&] { closed.push_back(2); });
    idle_b->on_evict([&] { closed.push_back(3); });
    slow_a->set_state(ConnectionTable::State::reading);
    slow_b->set_state(ConnectionTable::State::reading);
    idle_b->set_state(ConnectionTable::State::idle);
    auto third = table.admit(ip::make_address("10.0.0.3"));  // the idle one goes first
    CHECK(third);
    CHECK(closed == std::vector<int>{3});
    auto fourth = table.admit(ip::make_address("10.0.0.4"));  // then the one reading the longest
    CHECK(fourth);
    CHECK(closed == std::vector<int>{3, 1});

    // At an address's own cap, its reading connection makes way for its new one.
    ConnectionTable per_address({.total = 10, .per_address = 1});
    auto slow = per_address.admit(a);
    slow->on_evict([&] { closed.push_back(9); });
    slow->set_state(ConnectionTable::State::reading);
    CHECK(per_address.admit(a));
    CHECK(closed.back() == 9);
}
