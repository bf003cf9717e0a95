#pragma once
// Turning an admin's request into stages and the machines of each (pure: the caller passes the candidates).
//
// Candidates are the image's enabled, non-persistent machines: a persistent machine's disk is bound to the
// version it was made on, so giving it the new version means replacing its disk (`node reset`), which an
// admin does on purpose, not a rollout.
//
//   canary  "N"                 N machines picked from the candidates (spread by a seeded shuffle)
//           "GROUP"             the candidates in that group
//           "NODE,NODE,..."     those machines (each must be a candidate)
//   waves   "25%,100%"          cumulative shares of the candidates not in an earlier stage
//           "GROUP,...,100%"    a group's remaining candidates; percentages and groups may mix
// Every stage must get at least one machine; a machine is in one stage only.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/rollouts_repo.hpp"

namespace bootherd::rollouts {

struct Candidate {
    std::int64_t node_id = 0;
    std::string name{};
    std::string group{};  // empty: none
};

struct StageCriteria {
    std::optional<std::int64_t> min_ok{};  // default: every canary machine; half of a wave (at least 1)
    std::int64_t max_failures = 0;
    std::int64_t soak_ms = 10 * 60 * 1000;
    std::int64_t max_parallel = 0;  // 0: no limit
    std::optional<std::int64_t> hours_from{}, hours_to{};
};

struct PlanRequest {
    std::string canary = "1";
    std::string waves = "100%";
    StageCriteria criteria{};
    std::uint64_t seed = 0;  // for picking N canary machines
};

struct Plan {
    std::vector<db::RolloutStage> stages{};
    std::vector<db::RolloutMember> members{};
};

// db::InvalidArgument (field "canary", "waves", ...) when the request cannot be met.
Plan plan_rollout(const PlanRequest& request, const std::vector<Candidate>& candidates,
                  const std::vector<std::string>& group_names);

// "90", "90s", "10m", "2h" -> milliseconds (at most 7 days); db::InvalidArgument (field `field`) otherwise.
std::int64_t parse_duration_ms(std::string_view text, const std::string& field = "soak");

// "8-18" -> {8, 18}; db::InvalidArgument (field "hours") otherwise.
std::pair<std::int64_t, std::int64_t> parse_hours(std::string_view text);

}  // namespace bootherd::rollouts
