#include "web/api/rollout_json.hpp"

#include <boost/json.hpp>

#include "db/clock.hpp"
#include "rollouts/stage_tally.hpp"
#include "rollouts/webhook.hpp"

namespace bootherd::web {
namespace {

boost::json::value optional_json(const std::optional<std::int64_t>& value) {
    if (!value) return nullptr;
    return *value;
}

// Only scheme://host:port/path: the query may carry the receiver's token.
boost::json::value webhook_json(const std::string& url) {
    if (url.empty()) return nullptr;
    const auto parsed = rollouts::parse_webhook_url(url);
    if (!parsed) return nullptr;
    return boost::json::string(parsed->loggable());
}

boost::json::array failures_json(const std::vector<rollouts::StageFailure>& failures) {
    boost::json::array out;
    for (const auto& failure : failures)
        out.push_back({{"node", failure.node},
                       {"reason", failure.reason},
                       {"message", failure.message},
                       {"at", failure.at}});
    return out;
}

boost::json::object stage_json(db::Catalog::Session& session, const db::Rollout& rollout,
                               const db::RolloutStage& stage, std::int64_t now,
                               const boots::Thresholds& limits) {
    const auto members = rollouts::member_progress(session, rollout, stage.index, now, limits);
    const auto tally = rollouts::tally(members);
    boost::json::array member_items;
    for (const auto& progress : members) {
        boost::json::value boot = nullptr;
        if (const auto& latest = progress.latest)
            boot = {{"id", latest->id},
                    {"outcome", db::to_string(latest->outcome)},
                    {"reason", latest->reason},
                    {"message", latest->message},
                    {"started_at", latest->started_at},
                    {"ended_at", optional_json(latest->ended_at)}};
        member_items.push_back({{"node", progress.member.node_name},
                                {"granted_at", optional_json(progress.member.granted_at)},
                                {"boot", std::move(boot)},
                                {"booting", progress.booting}});
    }
    return {{"index", stage.index},
            {"name", stage.name},
            {"min_ok", stage.min_ok},
            {"max_failures", stage.max_failures},
            {"soak_ms", stage.soak_ms},
            {"max_parallel", stage.max_parallel},
            {"hours_from", optional_json(stage.hours_from)},
            {"hours_to", optional_json(stage.hours_to)},
            {"started_at", optional_json(stage.started_at)},
            {"soaking_since", optional_json(stage.soaking_since)},
            {"passed_at", optional_json(stage.passed_at)},
            {"tally",
             {{"members", tally.members},
              {"ok", tally.ok_machines},
              {"failed", static_cast<std::int64_t>(tally.failures.size())},
              {"booting", tally.booting}}},
            {"failures", failures_json(tally.failures)},
            {"members", std::move(member_items)}};
}

}  // namespace

// What the list shows of each rollout; a rolled-back one also names its failed machines (the dashboard's
// banner).
boost::json::object rollout_summary_json(db::Catalog::Session& session, const db::Rollout& rollout,
                                         std::int64_t now, const boots::Thresholds& limits) {
    boost::json::object out{{"id", rollout.id},
                            {"image", rollout.image},
                            {"from_version", rollout.from_number},
                            {"to_version", rollout.to_number},
                            {"state", db::to_string(rollout.state)},
                            {"reason", rollout.reason},
                            {"current_stage", rollout.current_stage},
                            {"stages", static_cast<std::int64_t>(rollout.stages.size())},
                            {"created_by", rollout.created_by},
                            {"created_at", rollout.created_at},
                            {"updated_at", rollout.updated_at},
                            {"ended_at", optional_json(rollout.ended_at)},
                            {"webhook", webhook_json(rollout.webhook_url)}};
    if (rollout.current_stage >= 0 &&
        rollout.current_stage < static_cast<std::int64_t>(rollout.stages.size())) {
        const auto& stage = rollout.stages[static_cast<std::size_t>(rollout.current_stage)];
        out["stage_name"] = stage.name;
        if (rollout.state == db::RolloutState::rolled_back)
            out["failures"] = failures_json(
                rollouts::tally(rollouts::member_progress(session, rollout, stage.index, now, limits))
                    .failures);
    }
    return out;
}

boost::json::object rollout_json(db::Catalog::Session& session, const db::Rollout& rollout,
                                 const boots::Thresholds& limits) {
    const auto now = db::now_ms();
    auto out = rollout_summary_json(session, rollout, now, limits);
    boost::json::array stages;
    for (const auto& stage : rollout.stages)
        stages.push_back(stage_json(session, rollout, stage, now, limits));
    out["stages"] = std::move(stages);
    boost::json::array events;
    for (const auto& event : session.rollouts().events(rollout.id)) {
        boost::system::error_code ignored;
        auto detail = boost::json::parse(event.detail, ignored);
        events.push_back({{"id", event.id},
                          {"at", event.at},
                          {"kind", event.kind},
                          {"detail", detail.is_object() ? std::move(detail) : boost::json::object{}}});
    }
    out["events"] = std::move(events);
    out["now"] = now;  // the server's clock, for the soak countdown
    return out;
}

}  // namespace bootherd::web
