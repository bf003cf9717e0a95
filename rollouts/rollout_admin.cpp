#include "rollouts/rollout_admin.hpp"

#include <map>
#include <random>

#include "db/error.hpp"
#include "rollouts/rollout_record.hpp"
#include "rollouts/webhook.hpp"

namespace bootherd::rollouts {
namespace {

std::string version_text(std::int64_t number) {
    return "v" + std::to_string(number);
}

// The image's machines a rollout may move: enabled, not persistent (see rollout_plan.hpp).
std::vector<Candidate> candidates_of(db::Catalog::Session& session, std::int64_t image_id) {
    std::map<std::int64_t, std::string> group_names;
    for (const auto& group : session.groups().list())
        group_names.emplace(group.id, group.name);
    std::vector<Candidate> candidates;
    db::NodeFilter filter{.image_id = image_id, .limit = 10000};
    while (true) {
        auto page = session.nodes().list(filter);
        for (const auto& node : page.nodes) {
            if (!node.enabled || node.effective_persistent) continue;
            candidates.push_back({.node_id = node.id,
                                  .name = node.name,
                                  .group = node.group_id ? group_names[*node.group_id] : std::string()});
        }
        filter.offset += static_cast<std::int64_t>(page.nodes.size());
        if (page.nodes.empty() || filter.offset >= page.total) break;
    }
    return candidates;
}

std::string describe(const db::Rollout& rollout) {
    return "rollout " + std::to_string(rollout.id) + " (" + version_text(rollout.from_number) + " -> " +
           version_text(rollout.to_number) + ", " + std::string(db::to_string(rollout.state)) + ")";
}

}  // namespace

void check_webhook_url(std::string_view url) {
    if (url.empty()) return;
    if (url.size() > 2048) throw db::InvalidArgument("webhook", "is longer than 2048 characters");
    if (!parse_webhook_url(url))
        throw db::InvalidArgument(
            "webhook",
            "must be a plain http:// URL: a host, an optional port (1-65535), no user info, "
            "no spaces");
}

db::Rollout RolloutAdmin::start(const RolloutRequest& request, std::int64_t now_ms) {
    check_webhook_url(request.webhook_url);
    auto session = catalog_.session();
    db::Transaction transaction(session.database());
    const auto image = session.images().find_by_name(request.image);
    if (!image) throw db::NotFound("image " + request.image + " not found");
    const auto version = session.versions().find_by_number(image->id, request.version);
    if (!version) throw db::NotFound("image " + image->name + " has no " + version_text(request.version));
    if (version->state != db::VersionState::sealed)
        throw db::Conflict("version", version_text(version->number) + " is a draft: commit it first");
    if (!image->promoted_version_id)
        throw db::Conflict("image", "image " + image->name + " has no promoted version to roll out from");
    if (*image->promoted_version_id == version->id)
        throw db::Conflict("version", version_text(version->number) + " is already the promoted version");
    if (const auto active = session.rollouts().active_for_image(image->id))
        throw db::Conflict("image", describe(*active) + " is active on image " + image->name +
                                        ": wait for it to end, or abort it (bootherd rollout abort " +
                                        std::to_string(active->id) + ")");
    const db::Version from = session.versions().get(*image->promoted_version_id);

    std::vector<std::string> groups;
    for (const auto& group : session.groups().list())
        groups.push_back(group.name);
    PlanRequest plan_request = request.plan;
    if (plan_request.seed == 0) plan_request.seed = std::random_device{}();
    Plan plan = plan_rollout(plan_request, candidates_of(session, image->id), groups);
    plan.stages.front().started_at = now_ms;

    db::Rollout rollout{.image_id = image->id,
                        .image = image->name,
                        .from_version_id = from.id,
                        .to_version_id = version->id,
                        .from_number = from.number,
                        .to_number = version->number,
                        .created_at = now_ms,
                        .updated_at = now_ms,
                        .webhook_url = request.webhook_url,
                        .created_by = request.actor,
                        .stages = std::move(plan.stages),
                        .members = std::move(plan.members)};
    rollout.id = session.rollouts().insert(rollout);
    record_change(session, rollout, "started", rollout_detail(rollout), request.actor, now_ms);
    transaction.commit();
    return session.rollouts().get(rollout.id);
}

db::Rollout RolloutAdmin::pause(std::int64_t id, const std::string& actor, std::int64_t now_ms) {
    return transition(id, actor, now_ms, "paused");
}

db::Rollout RolloutAdmin::resume(std::int64_t id, const std::string& actor, std::int64_t now_ms) {
    return transition(id, actor, now_ms, "resumed");
}

db::Rollout RolloutAdmin::abort(std::int64_t id, const std::string& actor, std::int64_t now_ms) {
    return transition(id, actor, now_ms, "aborted");
}

db::Rollout RolloutAdmin::transition(std::int64_t id, const std::string& actor, std::int64_t now_ms,
                                     std::string_view what) {
    using State = db::RolloutState;
    auto session = catalog_.session();
    db::Transaction transaction(session.database());
    db::Rollout rollout = session.rollouts().get(id);
    const State state = rollout.state;
    if (what == "paused") {
        if (state != State::running) throw db::Conflict("state", describe(rollout) + " is not running");
        rollout.state = State::paused;
    } else if (what == "resumed") {
        if (state != State::paused && state != State::rolled_back)
            throw db::Conflict("state", describe(rollout) + " is neither paused nor rolled back");
        if (state == State::rolled_back) {
            // The halted stage starts over: its earlier failures and grants no longer count.
            auto& stage = rollout.stages.at(static_cast<std::size_t>(rollout.current_stage));
            stage.started_at = now_ms;
            stage.soaking_since.reset();
            session.rollouts().update_stage(rollout.id, stage);
            session.rollouts().clear_grants(rollout.id, rollout.current_stage);
            rollout.ended_at.reset();
            rollout.reason.clear();
        }
        rollout.state = State::running;
    } else {
        if (!db::is_active(state) && state != State::rolled_back)
            throw db::Conflict("state", describe(rollout) + " has ended");
        rollout.state = State::aborted;
        rollout.ended_at = now_ms;
        rollout.reason = "aborted by " + actor;
    }
    rollout.updated_at = now_ms;
    session.rollouts().update(rollout);
    record_change(session, rollout, what, rollout_detail(rollout), actor, now_ms);
    transaction.commit();
    return session.rollouts().get(id);
}

}  // namespace bootherd::rollouts
