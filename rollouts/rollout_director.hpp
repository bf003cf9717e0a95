#pragma once
// Runs the catalog's active rollouts inside `bootherd serve`: decides the version each boot of a rollout's
// machine gets, and every few seconds judges each running stage from the boot records (boots/): it starts
// the soak, passes the stage (the next one starts; after the last, the new version is promoted), or halts
// the rollout and rolls it back. All state lives in the catalog, so a restarted server carries on where it
// stopped; times are compared with the catalog's clock, not timers.
//
// Thread-safe (its own mutex, then the catalog's): the boot service asks it for versions, the event writer
// thread ticks it. Never call it while holding a catalog session.
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>

#include "boots/boot_outcome.hpp"
#include "db/catalog.hpp"

namespace bootherd::rollouts {

class RolloutDirector {
  public:
    // Called (outside any lock) when a rollout halted or succeeded: kind "halted" or "succeeded".
    using Notify = std::function<void(const db::Rollout& rollout, std::string_view kind)>;
    // The local hour (0..23) at a UTC millisecond time, for stages with allowed hours.
    using LocalHour = std::function<int(std::int64_t utc_ms)>;

    RolloutDirector(db::Catalog& catalog, boots::Thresholds thresholds, Notify notify = {},
                    LocalHour local_hour = {});

    // The version a new boot of the node gets: a version id while one of its image's active rollouts says
    // so (the new version, or the old one for a machine outside the current stages, while the old one is
    // still promoted this is the same as nullopt), nullopt when no rollout concerns the node (the promoted
    // version). A grant is recorded here, so pacing counts it at once.
    std::optional<std::int64_t> version_for_boot(std::int64_t node_id, std::int64_t now_ms);
    // Judges every running rollout at `now_ms`.
    void tick(std::int64_t now_ms);

  private:
    struct Outcome {
        std::optional<db::Rollout> notify{};
        std::string kind{};
    };
    Outcome judge(db::Catalog::Session& session, db::Rollout rollout, std::int64_t now_ms);

    db::Catalog& catalog_;
    boots::Thresholds thresholds_;
    Notify notify_;
    LocalHour local_hour_;
    std::mutex mutex_;
};

// The system's local hour at a UTC millisecond time.
int system_local_hour(std::int64_t utc_ms);

}  // namespace bootherd::rollouts
