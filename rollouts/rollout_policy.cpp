#include "rollouts/rollout_policy.hpp"

#include <algorithm>

namespace bootherd::rollouts {
namespace {

constexpr std::size_t listed_failures = 10;  // a halt reason names at most this many machines

std::string describe(const StageFailure& failure) {
    std::string text = failure.node + " (" + failure.reason;
    if (!failure.message.empty()) text += ": \"" + failure.message + "\"";
    return text + ")";
}

std::string halt_reason(const db::RolloutStage& stage, const StageTally& tally) {
    std::string reason = "stage " + stage.name + ": " + std::to_string(tally.failures.size()) +
                         " failed boot(s), " + std::to_string(stage.max_failures) + " allowed: ";
    for (std::size_t i = 0; i < tally.failures.size() && i < listed_failures; ++i) {
        if (i != 0) reason += ", ";
        reason += describe(tally.failures[i]);
    }
    if (tally.failures.size() > listed_failures)
        reason += " and " + std::to_string(tally.failures.size() - listed_failures) + " more";
    return reason;
}

}  // namespace

StageVerdict judge_stage(const db::RolloutStage& stage, const StageTally& tally, std::int64_t now) {
    if (static_cast<std::int64_t>(tally.failures.size()) > stage.max_failures)
        return {StageStep::halt, halt_reason(stage, tally)};
    // Machines removed during the stage no longer count towards what it needs.
    const std::int64_t needed = std::min(stage.min_ok, tally.members);
    if (tally.ok_machines < needed) return {};
    if (!stage.soaking_since) return {StageStep::start_soak, {}};
    if (now - *stage.soaking_since >= stage.soak_ms) return {StageStep::pass, {}};
    return {};
}

bool within_hours(const db::RolloutStage& stage, int local_hour) noexcept {
    if (!stage.hours_from || !stage.hours_to || *stage.hours_from == *stage.hours_to) return true;
    const std::int64_t from = *stage.hours_from, to = *stage.hours_to;
    if (from < to) return local_hour >= from && local_hour < to;
    return local_hour >= from || local_hour < to;  // e.g. 22-6
}

Pick pick_version(const db::Rollout& rollout, const db::RolloutMember& member, std::int64_t booting,
                  int local_hour) {
    if (!db::is_active(rollout.state)) return Pick::from;
    if (member.stage < rollout.current_stage) return Pick::to;
    if (member.stage > rollout.current_stage) return Pick::from;
    if (member.granted_at) return Pick::to;
    if (rollout.state != db::RolloutState::running) return Pick::from;
    const auto& stage = rollout.stages.at(static_cast<std::size_t>(rollout.current_stage));
    if (!within_hours(stage, local_hour)) return Pick::from;
    if (stage.max_parallel > 0 && booting >= stage.max_parallel) return Pick::from;
    return Pick::grant;
}

}  // namespace bootherd::rollouts
