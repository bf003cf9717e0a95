#include "rollouts/stage_tally.hpp"

#include <algorithm>
#include <map>

namespace bootherd::rollouts {

std::vector<MemberProgress> member_progress(db::Catalog::Session& session, const db::Rollout& rollout,
                                            std::int64_t stage, std::int64_t now_ms,
                                            const boots::Thresholds& thresholds) {
    std::vector<MemberProgress> progress;
    std::map<std::int64_t, std::size_t> by_node;
    for (const auto& member : rollout.members) {
        if (member.stage != stage) continue;
        by_node.emplace(member.node_id, progress.size());
        progress.push_back({.member = member});
    }
    const auto& info = rollout.stages.at(static_cast<std::size_t>(stage));
    if (!rollout.to_version_id || !info.started_at) return progress;
    for (auto& boot : session.boots().of_version_since(*rollout.to_version_id, *info.started_at)) {
        const auto found = by_node.find(boot.node_id);
        if (found == by_node.end()) continue;
        auto& member = progress[found->second];
        if (boot.outcome == db::BootOutcome::ok) member.ok = true;
        if (boot.outcome == db::BootOutcome::failed)
            member.failures.push_back({.node = member.member.node_name,
                                       .reason = boot.reason,
                                       .message = boot.message,
                                       .at = boot.ended_at.value_or(boot.started_at)});
        member.latest = std::move(boot);  // oldest first: the last one seen is the newest
    }
    // A grant starts a boot whose record the event writer makes a moment later: until the record is there
    // (or if it never comes), the grant itself counts, for as long as the boot tracker would let a boot run.
    const std::int64_t longest_boot = thresholds.os_login_timeout_ms + thresholds.ok_window_ms;
    for (auto& member : progress) {
        const auto granted = member.member.granted_at;
        if (!granted || now_ms - *granted >= longest_boot) continue;
        const bool recorded =
            member.latest && member.latest->script_at.value_or(member.latest->started_at) >= *granted;
        member.booting = recorded ? member.latest->outcome == db::BootOutcome::running : true;
    }
    return progress;
}

StageTally tally(const std::vector<MemberProgress>& members) {
    StageTally tally{.members = static_cast<std::int64_t>(members.size())};
    for (const auto& member : members) {
        if (member.ok) ++tally.ok_machines;
        if (member.booting) ++tally.booting;
        tally.failures.insert(tally.failures.end(), member.failures.begin(), member.failures.end());
    }
    std::sort(tally.failures.begin(), tally.failures.end(),
              [](const StageFailure& a, const StageFailure& b) { return a.at < b.at; });
    return tally;
}

}  // namespace bootherd::rollouts
