#pragma once
// The rules of a rollout, as pure functions over what a stage has seen: no clock, no catalog, so every rule
// is testable with made-up times (RolloutDirector applies them).
//
// A stage passes when at least `min_ok` of its machines (capped at how many it still has) booted the new
// version ok since the stage started, and then `soak_ms` went by with no failure beyond the budget. It halts
// the rollout as soon as its failed boots of the new version exceed `max_failures`: a boot fails when no OS
// login came in time, the machine rebooted before it was ok (a reboot loop), or it reported failure.
#include <cstdint>
#include <string>
#include <vector>

#include "db/rollouts_repo.hpp"

namespace bootherd::rollouts {

struct StageFailure {
    std::string node{};
    std::string reason{};   // the boot's reason: "no_os_login", "reboot_loop", "health_failed"
    std::string message{};  // the machine's own words, if it reported
    std::int64_t at = 0;
};

// What one stage saw since it (last) started.
struct StageTally {
    std::int64_t members = 0;
    std::int64_t ok_machines = 0;  // members with an ok boot of the new version
    std::vector<StageFailure> failures{};
    std::int64_t booting = 0;  // members booting the new version now
};

enum class StageStep { wait, start_soak, pass, halt };

struct StageVerdict {
    StageStep step = StageStep::wait;
    std::string reason{};  // for halt: the failures, for people
};

// What the stage should do at `now`. Failures come first: a stage over its budget halts even while soaking.
StageVerdict judge_stage(const db::RolloutStage& stage, const StageTally& tally, std::int64_t now);

// Which version a boot of a member gets (see RolloutDirector::version_for_boot).
enum class Pick {
    from,   // the old version
    to,     // the new version, already granted to it in this stage or an earlier one
    grant,  // the new version, granted now
};

// `booting`: the other machines of the current stage booting the new version now; `local_hour`: 0..23.
Pick pick_version(const db::Rollout& rollout, const db::RolloutMember& member, std::int64_t booting,
                  int local_hour);

// True when `local_hour` is inside [from, to) (wrapping past midnight when to < from), or no hours are set.
bool within_hours(const db::RolloutStage& stage, int local_hour) noexcept;

}  // namespace bootherd::rollouts
