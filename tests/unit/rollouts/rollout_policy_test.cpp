// The pure rules of a stage, with made-up times.
#include <doctest/doctest.h>

#include "rollouts/rollout_policy.hpp"

using namespace bootherd;
using namespace bootherd::rollouts;

namespace {

db::RolloutStage stage(std::int64_t min_ok, std::int64_t max_failures, std::int64_t soak_ms) {
    return {.index = 0,
            .name = "canary",
            .min_ok = min_ok,
            .max_failures = max_failures,
            .soak_ms = soak_ms,
            .started_at = 0};
}

StageFailure failure(std::string node, std::string reason) {
    return {.node = std::move(node), .reason = std::move(reason), .message = "", .at = 5};
}

db::Rollout two_stages(db::RolloutState state, std::int64_t current, std::int64_t max_parallel = 0) {
    db::Rollout rollout{.state = state, .current_stage = current};
    rollout.stages = {stage(1, 0, 0), stage(1, 0, 0)};
    rollout.stages[1].index = 1;
    rollout.stages[1].name = "wave 1";
    for (auto& s : rollout.stages)
        s.max_parallel = max_parallel;
    return rollout;
}

}  // namespace

TEST_CASE("stage: waits for its ok boots, soaks, then passes") {
    auto s = stage(2, 0, 60'000);
    CHECK(judge_stage(s, {.members = 3, .ok_machines = 1}, 10).step == StageStep::wait);
    CHECK(judge_stage(s, {.members = 3, .ok_machines = 2}, 10).step == StageStep::start_soak);
    s.soaking_since = 10;
    CHECK(judge_stage(s, {.members = 3, .ok_machines = 2}, 60'009).step == StageStep::wait);
    CHECK(judge_stage(s, {.members = 3, .ok_machines = 2}, 60'010).step == StageStep::pass);
}

TEST_CASE("stage: one failure over the budget halts it, even while soaking, naming machine and reason") {
    auto s = stage(1, 1, 60'000);
    s.soaking_since = 0;
    StageTally seen{.members = 4, .ok_machines = 3, .failures = {failure("pc-2", "no_os_login")}};
    CHECK(judge_stage(s, seen, 1000).step == StageStep::wait);  // within the budget of 1
    seen.failures.push_back(failure("pc-4", "reboot_loop"));
    seen.failures.back().message = "kernel panic";
    const auto verdict = judge_stage(s, seen, 1000);
    CHECK(verdict.step == StageStep::halt);
    CHECK(verdict.reason.find("pc-2 (no_os_login)") != std::string::npos);
    CHECK(verdict.reason.find("pc-4 (reboot_loop: \"kernel panic\")") != std::string::npos);
    CHECK(verdict.reason.find("1 allowed") != std::string::npos);
}

TEST_CASE("stage: machines removed during it lower what it needs") {
    const auto s = stage(3, 0, 0);
    CHECK(judge_stage(s, {.members = 3, .ok_machines = 2}, 0).step == StageStep::wait);
    CHECK(judge_stage(s, {.members = 2, .ok_machines = 2}, 0).step == StageStep::start_soak);
    CHECK(judge_stage(s, {.members = 0, .ok_machines = 0}, 0).step == StageStep::start_soak);
}

TEST_CASE("pick: passed stages get the new version, later stages the old one, the current one by grant") {
    const auto rollout = two_stages(db::RolloutState::running, 1);
    CHECK(pick_version(rollout, {.stage = 0}, 0, 12) == Pick::to);
    CHECK(pick_version(rollout, {.stage = 1}, 0, 12) == Pick::grant);
    CHECK(pick_version(rollout, {.stage = 1, .granted_at = 5}, 0, 12) == Pick::to);
    const auto early = two_stages(db::RolloutState::running, 0);
    CHECK(pick_version(early, {.stage = 1}, 0, 12) == Pick::from);
}

TEST_CASE("pick: pacing and allowed hours hold back new grants, not machines that have the version") {
    auto rollout = two_stages(db::RolloutState::running, 0, 2);
    CHECK(pick_version(rollout, {.stage = 0}, 1, 12) == Pick::grant);
    CHECK(pick_version(rollout, {.stage = 0}, 2, 12) == Pick::from);
    CHECK(pick_version(rollout, {.stage = 0, .granted_at = 1}, 2, 12) == Pick::to);
    rollout.stages[0].hours_from = 22;
    rollout.stages[0].hours_to = 6;  // overnight
    CHECK(pick_version(rollout, {.stage = 0}, 0, 23) == Pick::grant);
    CHECK(pick_version(rollout, {.stage = 0}, 0, 5) == Pick::grant);
    CHECK(pick_version(rollout, {.stage = 0}, 0, 12) == Pick::from);
    CHECK(pick_version(rollout, {.stage = 0}, 0, 6) == Pick::from);
}

TEST_CASE("pick: paused grants nothing new; halted, aborted and succeeded rollouts decide nothing") {
    const auto paused = two_stages(db::RolloutState::paused, 0);
    CHECK(pick_version(paused, {.stage = 0}, 0, 12) == Pick::from);
    CHECK(pick_version(paused, {.stage = 0, .granted_at = 1}, 0, 12) == Pick::to);
    for (const auto state :
         {db::RolloutState::rolled_back, db::RolloutState::aborted, db::RolloutState::succeeded})
        CHECK(pick_version(two_stages(state, 1), {.stage = 0, .granted_at = 1}, 0, 12) == Pick::from);
}
