#include "rollouts/rollout_record.hpp"

#include <boost/json.hpp>

namespace bootherd::rollouts {
namespace {

boost::json::object detail_object(const db::Rollout& rollout) {
    boost::json::object detail{{"rollout", rollout.id},
                               {"image", rollout.image},
                               {"from", rollout.from_number},
                               {"to", rollout.to_number},
                               {"state", db::to_string(rollout.state)}};
    if (rollout.current_stage >= 0 && static_cast<std::size_t>(rollout.current_stage) < rollout.stages.size())
        detail["stage"] = rollout.stages[static_cast<std::size_t>(rollout.current_stage)].name;
    if (!rollout.reason.empty()) detail["reason"] = rollout.reason;
    return detail;
}

}  // namespace

std::string rollout_detail(const db::Rollout& rollout) {
    return boost::json::serialize(detail_object(rollout));
}

std::string halt_detail(const db::Rollout& rollout, const std::vector<StageFailure>& failures) {
    auto detail = detail_object(rollout);
    boost::json::array list;
    for (const auto& failure : failures)
        list.push_back(boost::json::object{{"node", failure.node},
                                           {"reason", failure.reason},
                                           {"message", failure.message},
                                           {"at", failure.at}});
    detail["failures"] = std::move(list);
    return boost::json::serialize(detail);
}

std::string stage_detail(const db::Rollout& rollout, const db::RolloutStage& stage, const StageTally& tally) {
    return boost::json::serialize(boost::json::object{{"rollout", rollout.id},
                                                      {"stage", stage.index},
                                                      {"members", tally.members},
                                                      {"ok", tally.ok_machines},
                                                      {"failed", tally.failures.size()}});
}

void record_change(db::Catalog::Session& session, const db::Rollout& rollout, std::string_view kind,
                   const std::string& detail_json, const std::string& actor, std::int64_t now_ms) {
    const std::string what = "rollout." + std::string(kind);
    session.rollouts().append_event(rollout.id, now_ms, kind, detail_json);
    session.events().append({.kind = what, .detail = detail_json, .at = now_ms});
    session.audit().append({.at = now_ms,
                            .actor = actor,
                            .action = what,
                            .target = "image:" + rollout.image,
                            .detail = detail_json});
}

}  // namespace bootherd::rollouts
