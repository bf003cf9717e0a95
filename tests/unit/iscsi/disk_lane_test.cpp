#include <doctest/doctest.h>

#include <vector>

#include "target/iscsi/disk_lane.hpp"

using bootherd::iscsi::DiskLane;

TEST_CASE("disk lane: one worker drains the queue in order; more start only for a backlog, up to the cap") {
    DiskLane lane(32, 2);
    CHECK(lane.push(7));  // the first task starts a worker
    for (std::uint16_t t = 8; t < 8 + DiskLane::kQueuedPerWorker - 2; ++t)
        CHECK_FALSE(lane.push(t));  // the running worker will take these
    CHECK(lane.push(100));          // backlog of kQueuedPerWorker: a second worker
    for (std::uint16_t t = 101; t < 120; ++t)
        CHECK_FALSE(lane.push(t));  // capped at two workers
    std::vector<std::uint16_t> order;
    while (auto t = lane.next())
        order.push_back(*t);
    REQUIRE(order.size() == 2 + (DiskLane::kQueuedPerWorker - 2) + 19);
    CHECK(order.front() == 7);
    CHECK(order[order.size() - 1] == 119);
    // The worker that found the queue empty has ended; the other one will too.
    CHECK_FALSE(lane.next().has_value());
    // With no worker left, the next task starts one again.
    CHECK(lane.push(3));
}

TEST_CASE("disk lane: finished tasks share one completion notice until collected") {
    DiskLane lane(8, 1);
    std::vector<std::uint16_t> out(lane.capacity());
    CHECK(lane.finished(1));  // first: post a notice
    CHECK_FALSE(lane.finished(2));
    CHECK_FALSE(lane.finished(3));
    REQUIRE(lane.take_finished(out) == 3);
    CHECK(out[0] == 1);
    CHECK(out[1] == 2);
    CHECK(out[2] == 3);
    CHECK(lane.take_finished(out) == 0);
    CHECK(lane.finished(4));  // collected: the next one needs a new notice
    std::vector<std::uint16_t> small(2);
    CHECK_THROWS(lane.take_finished(small));
}

TEST_CASE("disk lane: capacity is enforced") {
    DiskLane lane(2, 1);
    (void)lane.push(0);
    (void)lane.push(1);
    CHECK_THROWS((void)lane.push(2));
}
