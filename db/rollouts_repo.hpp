#pragma once
// Rollouts: moving an image's machines from one sealed version to another stage by stage (see rollouts/ for
// the rules). A rollout row, its stages in order, the machines of each stage, and its history.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "db/database.hpp"

namespace bootherd::db {

// running: its current stage hands out the new version; paused: nothing new gets it; succeeded: the new
// version was promoted; rolled_back: halted by a failure, every machine boots the old version (resumable);
// aborted: an admin ended it (final).
enum class RolloutState { running, paused, succeeded, rolled_back, aborted };

std::string_view to_string(RolloutState state) noexcept;
std::optional<RolloutState> parse_rollout_state(std::string_view text) noexcept;
// running or paused: the rollout owns the image's promotion.
bool is_active(RolloutState state) noexcept;

struct RolloutStage {
    std::int64_t index = 0;         // 0 = the first stage (usually the canary)
    std::string name{};             // "canary", "wave 1", ...
    std::int64_t min_ok = 1;        // machines with an ok boot of the new version needed to pass
    std::int64_t max_failures = 0;  // failed boots of the new version tolerated; one more halts the rollout
    std::int64_t soak_ms = 0;       // after min_ok is reached: this long with no failure before it passes
    std::int64_t max_parallel = 0;  // machines booting the new version at once; 0: no limit
    std::optional<std::int64_t> hours_from{}, hours_to{};  // local hours [from, to) when new boots may start
    std::optional<std::int64_t> started_at{};     // UTC ms; reset by a resume (only boots since count)
    std::optional<std::int64_t> soaking_since{};  // when min_ok was reached
    std::optional<std::int64_t> passed_at{};
};

struct RolloutMember {
    std::int64_t node_id = 0;
    std::string node_name{};  // joined when read
    std::int64_t stage = 0;
    std::optional<std::int64_t> granted_at{};  // the last time its boot got the new version
};

struct Rollout {
    std::int64_t id = 0;
    std::int64_t image_id = 0;
    std::string image{};                                             // joined when read
    std::optional<std::int64_t> from_version_id{}, to_version_id{};  // null once the version is deleted
    std::int64_t from_number = 0, to_number = 0;
    RolloutState state = RolloutState::running;
    std::int64_t current_stage = 0;
    std::int64_t created_at = 0, updated_at = 0;
    std::optional<std::int64_t> ended_at{};
    std::string reason{};  // why it halted or ended, for people
    std::string webhook_url{};
    std::string created_by{};
    std::vector<RolloutStage> stages{};
    std::vector<RolloutMember> members{};
};

struct RolloutEvent {
    std::int64_t id = 0;
    std::int64_t at = 0;
    std::string kind{};    // "started", "stage.started", "stage.soaking", "stage.passed", "halted", ...
    std::string detail{};  // JSON object text
};

// Not thread-safe by itself: obtain it from a Catalog::Session, which holds the catalog lock.
class RolloutsRepo {
  public:
    explicit RolloutsRepo(Database& db) : db_(db) {}

    // Stores `rollout` (id 0) with its stages and members; returns its id. Conflict (field "image") when
    // the image already has an active rollout.
    std::int64_t insert(const Rollout& rollout);
    std::optional<Rollout> find(std::int64_t id);
    Rollout get(std::int64_t id);  // NotFound
    // Newest first; `image_id` filters.
    std::vector<Rollout> list(std::optional<std::int64_t> image_id = std::nullopt, std::int64_t limit = 100);
    // The image's running or paused rollout.
    std::optional<Rollout> active_for_image(std::int64_t image_id);
    // Every running or paused rollout.
    std::vector<Rollout> active();
    // Rollouts counted by state (all of them).
    std::vector<std::pair<RolloutState, std::int64_t>> count_by_state();

    // Writes state, current_stage, updated_at, ended_at and reason. Conflict (field "image") when this
    // makes a second active rollout of the image.
    void update(const Rollout& rollout);
    void update_stage(std::int64_t rollout_id, const RolloutStage& stage);
    void grant(std::int64_t rollout_id, std::int64_t node_id, std::int64_t at);
    // Forgets the grants of the machines in stage `from_stage` and later (a resumed stage starts over).
    void clear_grants(std::int64_t rollout_id, std::int64_t from_stage);
    std::int64_t append_event(std::int64_t rollout_id, std::int64_t at, std::string_view kind,
                              std::string_view detail_json = "{}");
    std::vector<RolloutEvent> events(std::int64_t rollout_id);

  private:
    Database& db_;
};

}  // namespace bootherd::db
