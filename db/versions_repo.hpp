#pragma once
// Versions of an image: a chain of disk files (each a differencing child of its parent), written as a draft,
// then sealed and immutable.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/sqlite.hpp"

namespace bootherd::db {

enum class VersionState { draft, sealed };

struct Version {
    std::int64_t id = 0;
    std::int64_t image_id = 0;
    std::int64_t number = 0;  // 1, 2, 3... per image
    std::optional<std::int64_t> parent_version_id{};
    std::string file_path{};  // relative to the data directory
    VersionState state = VersionState::draft;
    std::int64_t size_bytes = 0;  // virtual disk size
    std::int64_t file_bytes = 0;  // space used on disk
    std::int64_t created_at = 0;
    std::optional<std::int64_t> sealed_at{};
    std::string note{};
    bool promoted = false;  // the image's current promoted version
    // A draft's own CHAP credentials for the maintenance machine that logs in to it; none once sealed.
    std::optional<std::string> chap_user{};
    std::optional<std::string> chap_secret{};
    // A draft's maintenance machine: the node whose next boot script sanboots this draft; none once sealed.
    std::optional<std::int64_t> maintenance_node_id{};
    // A sealed version's file as 64 lower-case hex digits: what a server checks a copy it pulls against. None
    // for drafts, and for versions sealed before bootherd recorded it until serve fills it in.
    std::optional<std::string> sha256{};
};

struct NewVersion {
    std::int64_t image_id = 0;
    std::optional<std::int64_t> parent_version_id{};  // must be a sealed version of the same image
    std::string file_path{};
    std::int64_t size_bytes = 0;
    std::int64_t file_bytes = 0;
    std::string note{};
};

// Not thread-safe by itself: obtain it from a Catalog::Session, which holds the catalog lock.
class VersionsRepo {
  public:
    explicit VersionsRepo(sqlite::Database& db) : db_(db) {}

    // Adds a draft numbered one above the image's highest version.
    Version add_draft(const NewVersion& version);
    std::optional<Version> find(std::int64_t id);
    Version get(std::int64_t id);  // NotFound
    std::optional<Version> find_by_number(std::int64_t image_id, std::int64_t number);
    // The image's versions, oldest first.
    std::vector<Version> list(std::int64_t image_id);

    // Records the current sizes of a draft while it is written; Conflict once sealed.
    void update_draft_sizes(std::int64_t id, std::int64_t size_bytes, std::int64_t file_bytes);
    // Gives a draft its CHAP credentials; Conflict once sealed.
    void set_chap(std::int64_t id, std::string_view user, std::string_view secret);
    // Makes `node_id` the draft's maintenance machine (nullopt: none). Conflict once sealed, or when the node
    // already maintains another draft (field "on"); NotFound for an unknown node.
    void set_maintenance_node(std::int64_t id, std::optional<std::int64_t> node_id);
    // The draft the node maintains, if any.
    std::optional<Version> maintained_by(std::int64_t node_id);
    // Every draft that has a maintenance machine.
    std::vector<Version> maintained();
    // Freezes a draft with its final on-disk size and its file's SHA-256 (64 lower-case hex digits) and drops
    // its CHAP credentials and maintenance machine; Conflict if already sealed.
    Version seal(std::int64_t id, std::int64_t file_bytes, std::string_view sha256);
    // Records the SHA-256 of a version sealed before it was recorded at seal; Conflict when it differs from
    // one already recorded (a sealed file never changes).
    void set_sha256(std::int64_t id, std::string_view sha256);
    // Sealed versions (all images) whose SHA-256 is not recorded yet.
    std::vector<Version> sealed_without_sha256();
    void set_note(std::int64_t id, std::string_view note);
    // Conflict while anything still needs the version (see in_use_ids).
    void remove(std::int64_t id);

    // Versions of the image that must be kept: drafts, the promoted and previously promoted versions, every
    // node's disk version, both versions of a rollout that is active or may be resumed, and all their
    // ancestors (children need their parents' files).
    std::vector<std::int64_t> in_use_ids(std::int64_t image_id);
    // Sealed versions a garbage collection may delete when keeping the newest `keep_last` sealed versions
    // (and their ancestors) on top of everything in use. Newest first, so children come before parents.
    std::vector<Version> gc_candidates(std::int64_t image_id, int keep_last);

  private:
    void require_draft(std::int64_t id);  // Conflict when the version is sealed
    std::vector<std::int64_t> needed_ids(std::int64_t image_id, int keep_last);
    sqlite::Database& db_;
};

std::string_view to_string(VersionState state) noexcept;

}  // namespace bootherd::db
