#pragma once
// How a change of a rollout is recorded: a line of its own history, a catalog event "rollout.<kind>" (the
// event stream and the dashboard see it) and an audit row naming who did it.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "db/catalog.hpp"
#include "rollouts/rollout_policy.hpp"

namespace bootherd::rollouts {

// {"rollout":ID,"image":"...","from":N,"to":M,"state":"...","stage":"canary"} plus `reason` when set.
std::string rollout_detail(const db::Rollout& rollout);
// rollout_detail with "failures":[{"node","reason","message","at"}].
std::string halt_detail(const db::Rollout& rollout, const std::vector<StageFailure>& failures);

// {"rollout":ID,"stage":N,"members":M,"ok":K,"failed":F}: a stage's progress, for its history lines.
std::string stage_detail(const db::Rollout& rollout, const db::RolloutStage& stage, const StageTally& tally);

// `actor`: the user, "cli", or "bootherd" for what the server decided itself.
void record_change(db::Catalog::Session& session, const db::Rollout& rollout, std::string_view kind,
                   const std::string& detail_json, const std::string& actor, std::int64_t now_ms);

}  // namespace bootherd::rollouts
