#pragma once
// What an admin does with rollouts, over the catalog: start, pause, resume, abort, look. Used by the CLI
// (which may run beside `bootherd serve`: the serving process picks changes up at its next tick, since all
// state lives in the catalog) and by the REST API. Each change is written with an audit row, a catalog event
// ("rollout.<what>") and a line of the rollout's own history.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/catalog.hpp"
#include "rollouts/rollout_plan.hpp"

namespace bootherd::rollouts {

struct RolloutRequest {
    std::string image{};
    std::int64_t version = 0;  // the sealed version to roll out
    PlanRequest plan{};
    std::string webhook_url{};  // "" or http://host[:port]/path, called on halt and on success
    std::string actor = "cli";
};

class RolloutAdmin {
  public:
    explicit RolloutAdmin(db::Catalog& catalog) : catalog_(catalog) {}

    // NotFound for an unknown image or version; Conflict when the image has an active rollout, the version
    // is a draft or already promoted, or the image has no promoted version; InvalidArgument for a plan that
    // cannot be met.
    db::Rollout start(const RolloutRequest& request, std::int64_t now_ms);
    // running -> paused: the current stage gives the new version to no more machines until resumed and does
    // not pass; machines that have it keep it, and their failures still halt the rollout.
    db::Rollout pause(std::int64_t id, const std::string& actor, std::int64_t now_ms);
    // paused or rolled_back -> running. After a halt the failed stage starts over: only boots from now on
    // count. Conflict when another rollout of the image is active.
    db::Rollout resume(std::int64_t id, const std::string& actor, std::int64_t now_ms);
    // running, paused or rolled_back -> aborted (final): every machine boots the old version.
    db::Rollout abort(std::int64_t id, const std::string& actor, std::int64_t now_ms);

  private:
    db::Rollout transition(std::int64_t id, const std::string& actor, std::int64_t now_ms,
                           std::string_view what);
    db::Catalog& catalog_;
};

// "webhook": empty, or an http:// URL with a host (InvalidArgument otherwise).
void check_webhook_url(std::string_view url);

}  // namespace bootherd::rollouts
