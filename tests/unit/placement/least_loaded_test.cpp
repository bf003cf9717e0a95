#include <doctest/doctest.h>

#include <vector>

#include "placement/least_loaded.hpp"

using namespace bootherd::placement;

namespace {

ServerLoad server(std::int64_t id, std::int64_t capacity, std::int64_t active, std::int64_t booting = 0) {
    return {.server_id = id,
            .capacity = capacity,
            .active = active,
            .booting = booting,
            .alive = true,
            .holds_version = true};
}

}  // namespace

TEST_CASE("least loaded: active machines per unit of capacity") {
    std::vector servers{server(1, 100, 30), server(2, 100, 10), server(3, 100, 20)};
    CHECK(least_loaded(servers) == 2);
    // Capacity weighs: 39 on a server of 400 is lighter than 10 on a server of 100, 40 as light (the lower id
    // wins the tie), 41 heavier.
    servers = {server(1, 100, 10), server(2, 400, 39)};
    CHECK(least_loaded(servers) == 2);
    servers = {server(1, 100, 10), server(2, 400, 40)};
    CHECK(least_loaded(servers) == 1);
    servers = {server(1, 100, 10), server(2, 400, 41)};
    CHECK(least_loaded(servers) == 1);
}

TEST_CASE("least loaded: ties go to fewer booting, then the lower id") {
    std::vector servers{server(2, 100, 10, 5), server(1, 100, 10, 5), server(3, 100, 10, 2)};
    CHECK(least_loaded(servers) == 3);
    servers = {server(2, 100, 10, 5), server(1, 100, 10, 5)};
    CHECK(least_loaded(servers) == 1);
}

TEST_CASE("least loaded: dead servers, servers without the version and full booting caps are skipped") {
    auto dead = server(1, 100, 0);
    dead.alive = false;
    auto without = server(2, 100, 0);
    without.holds_version = false;
    auto capped = server(3, 100, 1, 4);
    capped.max_booting = 4;
    auto busy = server(4, 100, 50, 3);
    busy.max_booting = 4;
    std::vector servers{dead, without, capped, busy};
    CHECK(least_loaded(servers) == 4);
    servers = {dead, without, capped};
    CHECK_FALSE(least_loaded(servers));
    CHECK_FALSE(least_loaded(std::span<const ServerLoad>{}));
}
