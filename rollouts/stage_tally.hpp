#pragma once
// What a rollout's stage has seen, read from the catalog's boot records: the director judges stages from it,
// the REST API shows it. A member's boots count from the stage's (last) start; only boots of the new version.
#include <cstdint>
#include <optional>
#include <vector>

#include "boots/boot_outcome.hpp"
#include "db/catalog.hpp"
#include "rollouts/rollout_policy.hpp"

namespace bootherd::rollouts {

struct MemberProgress {
    db::RolloutMember member{};
    std::optional<db::Boot> latest{};      // its newest boot of the new version since the stage started
    bool ok = false;                       // one of those boots ended ok
    std::vector<StageFailure> failures{};  // those that failed, oldest first
    bool booting = false;                  // counted against the stage's max_parallel now
};

// `stage` indexes rollout.stages; before the stage started its members have no boots yet. A member is booting
// from its (last) grant until that boot ends, or at most os_login_timeout + ok_window after the grant (the
// boot tracker ends boots by then). Every boot of the new version in the current stage renews the grant
// (RolloutDirector::version_for_boot).
std::vector<MemberProgress> member_progress(db::Catalog::Session& session, const db::Rollout& rollout,
                                            std::int64_t stage, std::int64_t now_ms,
                                            const boots::Thresholds& thresholds);
StageTally tally(const std::vector<MemberProgress>& members);

}  // namespace bootherd::rollouts
