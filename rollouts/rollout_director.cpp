#include "rollouts/rollout_director.hpp"

#include <ctime>
#include <vector>

#include "common/log.hpp"
#include "rollouts/rollout_policy.hpp"
#include "rollouts/rollout_record.hpp"
#include "rollouts/stage_tally.hpp"

namespace bootherd::rollouts {
namespace {

constexpr std::string_view server_actor = "bootherd";

const db::RolloutMember* member_of(const db::Rollout& rollout, std::int64_t node_id) {
    for (const auto& member : rollout.members)
        if (member.node_id == node_id) return &member;
    return nullptr;
}

}  // namespace

int system_local_hour(std::int64_t utc_ms) {
    const std::time_t seconds = static_cast<std::time_t>(utc_ms / 1000);
    std::tm local{};
    localtime_r(&seconds, &local);
    return local.tm_hour;
}

RolloutDirector::RolloutDirector(db::Catalog& catalog, boots::Thresholds thresholds, Notify notify,
                                 LocalHour local_hour)
    : catalog_(catalog),
      thresholds_(thresholds),
      notify_(std::move(notify)),
      local_hour_(local_hour ? std::move(local_hour) : LocalHour(system_local_hour)) {}

std::optional<std::int64_t> RolloutDirector::version_for_boot(std::int64_t node_id, std::int64_t now_ms) {
    const std::lock_guard lock(mutex_);
    auto session = catalog_.session();
    const auto node = session.nodes().find(node_id);
    if (!node || !node->effective_image_id) return std::nullopt;
    const auto rollout = session.rollouts().active_for_image(*node->effective_image_id);
    if (!rollout || !rollout->to_version_id) return std::nullopt;
    const db::RolloutMember* member = member_of(*rollout, node_id);
    // A machine made persistent since the rollout started keeps its disk: the rollout leaves it alone.
    if (!member || node->effective_persistent) return std::nullopt;
    const auto stage = rollout->current_stage;
    // The others booting the new version: this machine's own boot, if one runs, ends with this new one.
    std::int64_t others_booting = 0;
    for (const auto& progress : member_progress(session, *rollout, stage, now_ms, thresholds_))
        if (progress.booting && progress.member.node_id != node_id) ++others_booting;
    switch (pick_version(*rollout, *member, others_booting, local_hour_(now_ms))) {
        case Pick::from:
            return std::nullopt;  // the promoted version, which stays the old one while the rollout is active
        case Pick::to:
            // In the current stage this boot counts against the pacing from now, like a first grant.
            if (member->stage == stage) session.rollouts().grant(rollout->id, node_id, now_ms);
            return rollout->to_version_id;
        case Pick::grant:
            session.rollouts().grant(rollout->id, node_id, now_ms);
            log::info("rollout ", rollout->id, ": ", node->name, " gets ", rollout->image, " v",
                      rollout->to_number, " (stage ", rollout->stages[static_cast<std::size_t>(stage)].name,
                      ")");
            return rollout->to_version_id;
    }
    return std::nullopt;
}

void RolloutDirector::tick(std::int64_t now_ms) {
    std::vector<Outcome> outcomes;
    {
        const std::lock_guard lock(mutex_);
        auto session = catalog_.session();
        for (auto& rollout : session.rollouts().active()) {
            try {
                db::Transaction transaction(session.database());
                auto outcome = judge(session, std::move(rollout), now_ms);
                transaction.commit();
                if (outcome.notify) outcomes.push_back(std::move(outcome));
            } catch (const std::exception& e) {
                log::error("rollout: judging a rollout failed: ", e.what());
            }
        }
    }
    if (!notify_) return;
    for (const auto& outcome : outcomes)
        notify_(*outcome.notify, outcome.kind);
}

RolloutDirector::Outcome RolloutDirector::judge(db::Catalog::Session& session, db::Rollout rollout,
                                                std::int64_t now_ms) {
    auto repo = session.rollouts();
    auto& stage = rollout.stages.at(static_cast<std::size_t>(rollout.current_stage));
    if (!stage.started_at) {  // defensive: every stage gets its start when the one before passes
        stage.started_at = now_ms;
        repo.update_stage(rollout.id, stage);
    }
    const StageTally seen = tally(member_progress(session, rollout, stage.index, now_ms, thresholds_));
    const StageVerdict verdict = judge_stage(stage, seen, now_ms);
    if (rollout.state == db::RolloutState::paused && verdict.step != StageStep::halt) return {};
    switch (verdict.step) {
        case StageStep::wait:
            return {};
        case StageStep::start_soak:
            stage.soaking_since = now_ms;
            repo.update_stage(rollout.id, stage);
            repo.append_event(rollout.id, now_ms, "stage.soaking", stage_detail(rollout, stage, seen));
            return {};
        case StageStep::halt: {
            rollout.state = db::RolloutState::rolled_back;
            rollout.ended_at = now_ms;
            rollout.updated_at = now_ms;
            rollout.reason = verdict.reason;
            repo.update(rollout);
            record_change(session, rollout, "halted", halt_detail(rollout, seen.failures),
                          std::string(server_actor), now_ms);
            log::warn("rollout ", rollout.id, " of ", rollout.image, " v", rollout.to_number,
                      " halted and rolled back to v", rollout.from_number, ": ", verdict.reason);
            return {rollout, "halted"};
        }
        case StageStep::pass:
            break;
    }
    stage.passed_at = now_ms;
    repo.update_stage(rollout.id, stage);
    record_change(session, rollout, "stage.passed", stage_detail(rollout, stage, seen),
                  std::string(server_actor), now_ms);
    rollout.updated_at = now_ms;
    if (static_cast<std::size_t>(rollout.current_stage) + 1 < rollout.stages.size()) {
        ++rollout.current_stage;
        auto& next = rollout.stages[static_cast<std::size_t>(rollout.current_stage)];
        next.started_at = now_ms;
        repo.update_stage(rollout.id, next);
        repo.update(rollout);
        StageTally fresh;
        for (const auto& member : rollout.members)
            if (member.stage == next.index) ++fresh.members;
        repo.append_event(rollout.id, now_ms, "stage.started", stage_detail(rollout, next, fresh));
        log::info("rollout ", rollout.id, " of ", rollout.image, ": stage ", stage.name, " passed, ",
                  next.name, " starts");
        return {};
    }
    rollout.state = db::RolloutState::succeeded;
    rollout.ended_at = now_ms;
    rollout.reason = "every stage passed: v" + std::to_string(rollout.to_number) + " promoted";
    if (rollout.to_version_id) session.images().promote(rollout.image_id, *rollout.to_version_id);
    repo.update(rollout);
    record_change(session, rollout, "succeeded", rollout_detail(rollout), std::string(server_actor), now_ms);
    log::info("rollout ", rollout.id, " of ", rollout.image, " succeeded: v", rollout.to_number, " promoted");
    return {rollout, "succeeded"};
}

}  // namespace bootherd::rollouts
