#pragma once
// Enrolled machines: identity (name, MAC), what they boot (image, directly or through their group), their
// iSCSI identity, and the state of their current disk.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.hpp"

namespace bootherd::db {

struct Node {
    std::int64_t id = 0;
    std::string name{};
    std::string mac{};  // aa:bb:cc:dd:ee:ff
    std::optional<std::int64_t> group_id{};
    std::optional<std::int64_t> image_id;  // explicit choice; nullopt = the group's
    std::optional<bool> persistent;        // explicit choice; nullopt = the group's
    bool enabled = true;
    std::string iqn{};
    std::string chap_user{};
    std::string chap_secret{};
    std::optional<std::string> fixed_ip{};
    std::int64_t created_at = 0;
    std::optional<std::int64_t> disk_version_id{};  // the version its current disk sits on
    std::optional<std::string> disk_path{};
    std::optional<std::int64_t> last_boot_at{};
    std::string state{};
    std::optional<bool> bind_address{};  // explicit choice; nullopt = the group's (bind without a group)
    // The address its script was last served to while bound; its iSCSI logins are admitted only from there.
    std::optional<std::string> boot_address{};
    std::optional<std::int64_t> boot_address_at{};
    std::optional<std::string> hostname{};  // given explicitly (lower case); nullopt: none given
    // The server its disk lives on and whose portal its logins are sent to (several servers on one catalog);
    // nullopt until a boot places it.
    std::optional<std::int64_t> home_server_id{};
    std::optional<std::int64_t> home_placed_at{};  // when a boot last placed it there
    // Resolved: the explicit host name, else the node name in lower case when it is a valid host name.
    std::optional<std::string> effective_hostname{};
    // Resolved through the group.
    std::optional<std::int64_t> effective_image_id{};
    bool effective_persistent = false;
    bool effective_bind_address = true;
};

struct NewNode {
    std::string name{};
    std::string mac{};  // any form normalize_mac accepts
    std::optional<std::int64_t> group_id{};
    std::optional<std::int64_t> image_id{};
    std::optional<bool> persistent{};
    std::optional<std::string> fixed_ip{};  // dotted IPv4
    bool enabled = true;
    std::optional<bool> bind_address{};
    std::optional<std::string> hostname{};  // RFC 1123 host name; nullopt: go by the node name
};

// Fields to change; an empty outer optional leaves the field as it is.
struct NodeChanges {
    std::optional<std::string> name{};
    std::optional<std::string> mac{};
    std::optional<std::optional<std::int64_t>> group_id{};
    std::optional<std::optional<std::int64_t>> image_id{};
    std::optional<std::optional<bool>> persistent{};
    std::optional<std::optional<std::string>> fixed_ip{};
    std::optional<bool> enabled{};
    std::optional<std::optional<bool>> bind_address{};
    std::optional<std::optional<std::string>> hostname{};
};

struct NodeFilter {
    std::optional<std::int64_t> group_id{};
    std::optional<std::int64_t> image_id{};  // matches the effective image
    std::string search{};                    // substring of name or MAC, case-insensitive
    std::int64_t limit = 100;                // 1..10000
    std::int64_t offset = 0;
};

struct NodePage {
    std::vector<Node> nodes{};  // ordered by name
    std::int64_t total = 0;     // matches before paging
};

struct ImportProblem {
    std::size_t line = 0;  // 1-based line in the CSV text
    std::string field{};   // column name, or "csv" for syntax and shape errors
    std::string message{};
};

struct ImportReport {
    std::size_t rows = 0;      // data rows seen
    std::size_t imported = 0;  // rows written (0 unless every row was valid and validate_only was false)
    std::vector<ImportProblem> problems{};
    bool ok() const noexcept { return problems.empty(); }
};

// Not thread-safe by itself: obtain it from a Catalog::Session, which holds the catalog lock.
class NodesRepo {
  public:
    explicit NodesRepo(Database& db) : db_(db) {}

    // Validates, then enrols with a generated IQN and random CHAP credentials. InvalidArgument or Conflict
    // name the offending field.
    Node add(const NewNode& node);
    std::optional<Node> find(std::int64_t id);
    std::optional<Node> find_by_name(std::string_view name);
    std::optional<Node> find_by_mac(std::string_view mac);  // any accepted MAC form
    Node get(std::int64_t id);                              // NotFound
    NodePage list(const NodeFilter& filter);
    // Every node, ordered by name (page by page).
    std::vector<Node> all();
    Node update(std::int64_t id, const NodeChanges& changes);
    void remove(std::int64_t id);

    // The node's disk now sits on `version_id` (or has none).
    void set_disk(std::int64_t id, std::optional<std::int64_t> version_id,
                  std::optional<std::string> disk_path);
    // A boot milestone: sets the state and the last boot time.
    void record_boot(std::int64_t id, std::string_view state, std::int64_t at_ms);
    void set_state(std::int64_t id, std::string_view state);
    // Sets every node's state at once; with `home_server`, only of the nodes homed there or nowhere.
    void set_every_state(std::string_view state, std::optional<std::int64_t> home_server = std::nullopt);
    // Homes the node on a server, placed at `at_ms` (nullopt: nowhere). NotFound for an unknown node.
    void set_home_server(std::int64_t id, std::optional<std::int64_t> server_id, std::int64_t at_ms);
    // The address the node's boot is bound to (its script was served there), or none.
    void set_boot_address(std::int64_t id, std::optional<std::string> address, std::int64_t at_ms);

    // CSV enrolment with columns name,mac[,image][,group][,persistent][,hostname][,ip] (header row required,
    // any order; an empty hostname or ip field means none). The
    // whole file is checked first; rows are written in one transaction only if none has a problem and
    // validate_only is false.
    ImportReport import_csv(std::string_view text, bool validate_only = false);

  private:
    Database& db_;
};

}  // namespace bootherd::db
