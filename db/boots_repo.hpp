#pragma once
// Boot attempts: one row per boot of an enrolled node, with each step's time and the outcome (see boots/ for
// how rows are made and ended).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.hpp"

namespace bootherd::db {

enum class BootOutcome { running, ok, failed };

std::string_view to_string(BootOutcome outcome) noexcept;
std::optional<BootOutcome> parse_boot_outcome(std::string_view text) noexcept;

struct Boot {
    std::int64_t id = 0;  // 0: not stored yet
    std::int64_t node_id = 0;
    std::string mac{};
    std::optional<std::int64_t> version_id{};  // the version the node's disk sat on (or the draft it booted)
    std::int64_t started_at = 0;               // UTC milliseconds, like every time below
    std::optional<std::int64_t> dhcp_at{};
    std::optional<std::int64_t> tftp_at{};
    std::optional<std::int64_t> script_at{};
    std::optional<std::int64_t> firmware_login_at{};
    std::optional<std::int64_t> first_read_at{};
    std::optional<std::int64_t> os_login_at{};
    std::optional<std::int64_t> health_at{};
    std::optional<std::int64_t> ended_at{};  // set exactly when the outcome is not running
    BootOutcome outcome = BootOutcome::running;
    std::string reason{};   // why it ended (e.g. "stayed_up", "reboot_loop")
    std::string message{};  // the machine's own words, from its health report
    // Read-only, joined when read: the node's name, the version's image and number, whether it is a draft.
    std::string node_name{};
    std::optional<std::string> image{};
    std::optional<std::int64_t> version{};
    bool draft = false;
};

struct BootFilter {
    std::optional<std::int64_t> node_id{};
    std::optional<BootOutcome> outcome{};
    std::optional<std::string> image{};  // image name, case-insensitive
    std::optional<std::int64_t> version{};
    std::int64_t limit = 100;  // 1..1000
    std::int64_t offset = 0;
};

struct BootPage {
    std::vector<Boot> boots{};  // newest first
    std::int64_t total = 0;     // matches before paging
};

// How the boots of one image version ended (image and version are empty when the version is gone).
struct VersionBootCounts {
    std::optional<std::string> image{};
    std::optional<std::int64_t> version{};
    std::int64_t running = 0, ok = 0, failed = 0;
};

// Not thread-safe by itself: obtain it from a Catalog::Session, which holds the catalog lock.
class BootsRepo {
  public:
    // Boots kept per node: inserting one more drops the node's oldest.
    static constexpr std::int64_t kept_per_node = 100;

    explicit BootsRepo(Database& db) : db_(db) {}

    // Stores a new boot (its id must be 0) and returns its id.
    std::int64_t insert(const Boot& boot);
    // Writes the steps, outcome, reason and message of a stored boot.
    void update(const Boot& boot);
    std::optional<Boot> find(std::int64_t id);
    // The node's newest boot, whatever its outcome.
    std::optional<Boot> latest_for_node(std::int64_t node_id);
    // Every node's newest boot, by node id (nodes without boots are absent).
    std::map<std::int64_t, Boot> latest_by_node();
    std::vector<Boot> running();
    // Deletes at most `limit` (-1: all) of the boots that ended before `before_ms`, oldest first.
    std::int64_t prune_ended_before(std::int64_t before_ms, std::int64_t limit = -1);
    // The boots of a version that started at or after `since_ms`, oldest first.
    std::vector<Boot> of_version_since(std::int64_t version_id, std::int64_t since_ms);
    BootPage list(const BootFilter& filter);
    // The stored boots counted by outcome per image version, by image name then version.
    std::vector<VersionBootCounts> outcomes_by_version();
    // The node whose current boot is bound to `address` (nodes.boot_address), the most recently bound one.
    std::optional<std::int64_t> node_at_boot_address(std::string_view address);

  private:
    Database& db_;
};

}  // namespace bootherd::db
