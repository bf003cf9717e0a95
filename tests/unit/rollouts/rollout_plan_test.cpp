// Requests into stages: canary by count, group or names; waves by cumulative share or group.
#include <doctest/doctest.h>

#include <set>

#include "db/error.hpp"
#include "rollouts/rollout_plan.hpp"

using namespace bootherd;
using namespace bootherd::rollouts;

namespace {

std::vector<Candidate> machines(int count) {
    std::vector<Candidate> candidates;
    for (int i = 1; i <= count; ++i) {
        const std::string name = (i < 10 ? "pc-0" : "pc-") + std::to_string(i);
        candidates.push_back({.node_id = i, .name = name, .group = i <= 2 ? "lab-a" : "lab-b"});
    }
    return candidates;
}

const std::vector<std::string> groups{"lab-a", "lab-b", "empty"};

std::vector<std::string> names_in(const Plan& plan, std::int64_t stage) {
    std::vector<std::string> names;
    for (const auto& member : plan.members)
        if (member.stage == stage) names.push_back(member.node_name);
    return names;
}

std::string field_of(const PlanRequest& request, const std::vector<Candidate>& candidates) {
    try {
        plan_rollout(request, candidates, groups);
    } catch (const db::InvalidArgument& e) {
        return e.field();
    }
    return "accepted";
}

}  // namespace

TEST_CASE("plan: N canary machines picked by the seed, cumulative waves cover the rest once each") {
    const auto candidates = machines(20);
    const Plan plan = plan_rollout({.canary = "2", .waves = "25%,100%", .seed = 7}, candidates, groups);
    REQUIRE(plan.stages.size() == 3);
    CHECK(plan.stages[0].name == "canary");
    CHECK(names_in(plan, 0).size() == 2);
    CHECK(names_in(plan, 1).size() == 3);  // 25% of 20 = 5, the canary had 2
    CHECK(names_in(plan, 2).size() == 15);
    std::set<std::int64_t> ids;
    for (const auto& member : plan.members)
        ids.insert(member.node_id);
    CHECK(ids.size() == 20);
    // The same seed picks the same machines; another seed (almost surely) others.
    const Plan again = plan_rollout({.canary = "2", .waves = "25%,100%", .seed = 7}, candidates, groups);
    CHECK(names_in(again, 0) == names_in(plan, 0));
    bool differs = false;
    for (std::uint64_t seed = 8; seed < 16 && !differs; ++seed)
        differs =
            names_in(plan_rollout({.canary = "2", .seed = seed}, candidates, groups), 0) != names_in(plan, 0);
    CHECK(differs);
}

TEST_CASE("plan: a canary group or named machines; a group wave takes what is left of the group") {
    const auto candidates = machines(6);
    const Plan by_group = plan_rollout({.canary = "lab-a", .waves = "100%"}, candidates, groups);
    CHECK(names_in(by_group, 0) == std::vector<std::string>{"pc-01", "pc-02"});
    CHECK(names_in(by_group, 1).size() == 4);
    const Plan by_name = plan_rollout({.canary = "pc-03,pc-01", .waves = "lab-a,lab-b"}, candidates, groups);
    CHECK(names_in(by_name, 0) == std::vector<std::string>{"pc-01", "pc-03"});
    CHECK(names_in(by_name, 1) == std::vector<std::string>{"pc-02"});
    CHECK(names_in(by_name, 2) == std::vector<std::string>{"pc-04", "pc-05", "pc-06"});
}

TEST_CASE("plan: success criteria default to every canary machine and half of a wave") {
    const Plan plan = plan_rollout({.canary = "3", .waves = "100%"}, machines(10), groups);
    CHECK(plan.stages[0].min_ok == 3);
    CHECK(plan.stages[1].min_ok == 4);  // half of 7, rounded up
    StageCriteria criteria{.min_ok = 5, .max_failures = 2, .soak_ms = 1000, .max_parallel = 3};
    const Plan set =
        plan_rollout({.canary = "3", .waves = "100%", .criteria = criteria}, machines(10), groups);
    CHECK(set.stages[0].min_ok == 3);  // capped at the stage's size
    CHECK(set.stages[1].min_ok == 5);
    CHECK(set.stages[1].max_failures == 2);
    CHECK(set.stages[1].max_parallel == 3);
}

TEST_CASE("plan: requests that cannot be met are refused with the field at fault") {
    const auto candidates = machines(4);
    CHECK(field_of({.canary = "0"}, candidates) == "canary");
    CHECK(field_of({.canary = "5"}, candidates) == "canary");
    CHECK(field_of({.canary = "pc-09"}, candidates) == "canary");
    CHECK(field_of({.canary = "pc-01,pc-01"}, candidates) == "canary");
    CHECK(field_of({.canary = "empty"}, candidates) == "canary");
    CHECK(field_of({.canary = ""}, candidates) == "canary");
    CHECK(field_of({.canary = "1", .waves = "150%"}, candidates) == "waves");
    CHECK(field_of({.canary = "1", .waves = "100%,100%"}, candidates) == "waves");  // the second is empty
    CHECK(field_of({.canary = "1", .waves = "nosuch"}, candidates) == "waves");
    CHECK(field_of({.canary = "1", .criteria = {.max_failures = -1}}, candidates) == "max_failures");
    CHECK(field_of({.canary = "1", .criteria = {.hours_from = 8}}, candidates) == "hours");
    CHECK(field_of({.canary = "1"}, {}) == "canary");
    CHECK(field_of({.canary = "1", .waves = ""}, candidates) == "accepted");
}

TEST_CASE("durations and hours parse, bad ones are refused") {
    CHECK(parse_duration_ms("90") == 90'000);
    CHECK(parse_duration_ms("15s") == 15'000);
    CHECK(parse_duration_ms("10m") == 600'000);
    CHECK(parse_duration_ms("2h") == 7'200'000);
    for (const char* bad : {"", "m", "-5s", "1d", "9999h", "10 m"})
        CHECK_THROWS_AS(parse_duration_ms(bad), db::InvalidArgument);
    CHECK(parse_hours("8-18") == std::pair<std::int64_t, std::int64_t>{8, 18});
    for (const char* bad : {"8", "8-", "-18", "8-25", "a-b"})
        CHECK_THROWS_AS(parse_hours(bad), db::InvalidArgument);
}
