#include "db/versions_repo.hpp"

#include <algorithm>

#include "db/clock.hpp"
#include "db/error.hpp"

namespace bootherd::db {
namespace {

constexpr std::string_view version_columns =
    "SELECT v.id, v.image_id, v.number, v.parent_version_id, v.file_path, v.state, v.size_bytes, "
    "v.file_bytes, "
    "v.created_at, v.sealed_at, v.note, (i.promoted_version_id IS v.id), v.chap_user, v.chap_secret, "
    "v.maintenance_node_id, v.sha256 "
    "FROM versions v JOIN images i ON i.id = v.image_id ";

Version read_version(const sqlite::Statement& row) {
    Version v;
    v.id = row.int64(0);
    v.image_id = row.int64(1);
    v.number = row.int64(2);
    v.parent_version_id = row.opt_int64(3);
    v.file_path = row.text(4);
    v.state = row.text(5) == "sealed" ? VersionState::sealed : VersionState::draft;
    v.size_bytes = row.int64(6);
    v.file_bytes = row.int64(7);
    v.created_at = row.int64(8);
    v.sealed_at = row.opt_int64(9);
    v.note = row.text(10);
    v.promoted = row.boolean(11);
    v.chap_user = row.opt_text(12);
    v.chap_secret = row.opt_text(13);
    v.maintenance_node_id = row.opt_int64(14);
    v.sha256 = row.opt_text(15);
    return v;
}

std::string id_text(std::int64_t id) {
    return std::to_string(id);
}

void require_sha256_hex(std::string_view sha256) {
    const bool hex = sha256.size() == 64 && std::all_of(sha256.begin(), sha256.end(), [](char c) {
                         return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                     });
    if (!hex) throw InvalidArgument("sha256", "must be 64 lower-case hex digits");
}

// Versions that must stay, as a recursive query: the roots ?1 = image, ?2 = how many newest sealed to keep,
// closed over parent links.
constexpr std::string_view needed_query = R"sql(
WITH RECURSIVE
roots(id) AS (
    SELECT id FROM versions WHERE image_id = ?1 AND state = 'draft'
    UNION SELECT id FROM (SELECT id FROM versions WHERE image_id = ?1 AND state = 'sealed'
                          ORDER BY number DESC LIMIT ?2)
    UNION SELECT promoted_version_id FROM images WHERE id = ?1 AND promoted_version_id IS NOT NULL
    UNION SELECT previous_promoted_version_id FROM images WHERE id = ?1 AND previous_promoted_version_id IS NOT NULL
    UNION SELECT n.disk_version_id FROM nodes n JOIN versions v ON v.id = n.disk_version_id WHERE v.image_id = ?1
    UNION SELECT to_version_id FROM rollouts WHERE image_id = ?1 AND to_version_id IS NOT NULL
                 AND state IN ('running', 'paused', 'rolled_back')
    UNION SELECT from_version_id FROM rollouts WHERE image_id = ?1 AND from_version_id IS NOT NULL
                 AND state IN ('running', 'paused', 'rolled_back')
),
needed(id) AS (
    SELECT id FROM roots
    UNION SELECT v.parent_version_id FROM versions v JOIN needed ON v.id = needed.id
          WHERE v.parent_version_id IS NOT NULL
)
SELECT id FROM needed ORDER BY id
)sql";

}  // namespace

std::string_view to_string(VersionState state) noexcept {
    return state == VersionState::sealed ? "sealed" : "draft";
}

Version VersionsRepo::add_draft(const NewVersion& version) {
    if (version.file_path.empty()) throw InvalidArgument("file_path", "must not be empty");
    if (version.file_path.front() == '/')
        throw InvalidArgument("file_path", "must be relative to the data directory");
    if (version.size_bytes < 0 || version.file_bytes < 0)
        throw InvalidArgument("size_bytes", "must not be negative");
    {
        auto image = db_.prepare("SELECT 1 FROM images WHERE id = ?");
        image->bind_all(version.image_id);
        if (!image->step()) throw NotFound("image " + id_text(version.image_id) + " does not exist");
    }
    if (version.parent_version_id) {
        const Version parent = get(*version.parent_version_id);
        if (parent.image_id != version.image_id) {
            throw InvalidArgument("parent_version_id", "parent belongs to another image");
        }
        if (parent.state != VersionState::sealed) {
            throw Conflict("parent_version_id", "parent version " + id_text(parent.id) + " is not sealed");
        }
    }
    auto insert = db_.prepare(
        "INSERT INTO versions (image_id, number, parent_version_id, file_path, size_bytes, file_bytes, "
        "created_at, note) "
        "VALUES (?1, (SELECT coalesce(max(number), 0) + 1 FROM versions WHERE image_id = ?1), ?2, ?3, ?4, "
        "?5, ?6, ?7)");
    insert->bind_all(version.image_id, version.parent_version_id, version.file_path, version.size_bytes,
                     version.file_bytes, now_ms(), version.note);
    try {
        insert->run();
    } catch (const SqliteError& e) {
        if (e.code() == SQLITE_CONSTRAINT_UNIQUE) {
            throw Conflict("file_path", "'" + version.file_path + "' is already used by another version");
        }
        throw;
    }
    return get(db_.last_insert_rowid());
}

std::optional<Version> VersionsRepo::find(std::int64_t id) {
    auto query = db_.prepare(std::string(version_columns) + "WHERE v.id = ?");
    query->bind_all(id);
    if (!query->step()) return std::nullopt;
    return read_version(*query);
}

Version VersionsRepo::get(std::int64_t id) {
    auto version = find(id);
    if (!version) throw NotFound("version " + id_text(id) + " does not exist");
    return *version;
}

std::optional<Version> VersionsRepo::find_by_number(std::int64_t image_id, std::int64_t number) {
    auto query = db_.prepare(std::string(version_columns) + "WHERE v.image_id = ? AND v.number = ?");
    query->bind_all(image_id, number);
    if (!query->step()) return std::nullopt;
    return read_version(*query);
}

std::vector<Version> VersionsRepo::list(std::int64_t image_id) {
    auto query = db_.prepare(std::string(version_columns) + "WHERE v.image_id = ? ORDER BY v.number");
    query->bind_all(image_id);
    std::vector<Version> versions;
    while (query->step())
        versions.push_back(read_version(*query));
    return versions;
}

void VersionsRepo::require_draft(std::int64_t id) {
    if (get(id).state != VersionState::draft)
        throw Conflict("version", "version " + id_text(id) + " is sealed");
}

void VersionsRepo::update_draft_sizes(std::int64_t id, std::int64_t size_bytes, std::int64_t file_bytes) {
    require_draft(id);
    auto update = db_.prepare("UPDATE versions SET size_bytes = ?, file_bytes = ? WHERE id = ?");
    update->bind_all(size_bytes, file_bytes, id);
    update->run();
}

void VersionsRepo::set_chap(std::int64_t id, std::string_view user, std::string_view secret) {
    require_draft(id);
    auto update = db_.prepare("UPDATE versions SET chap_user = ?, chap_secret = ? WHERE id = ?");
    update->bind_all(user, secret, id);
    update->run();
}

void VersionsRepo::set_maintenance_node(std::int64_t id, std::optional<std::int64_t> node_id) {
    require_draft(id);
    if (node_id) {
        auto node = db_.prepare("SELECT name FROM nodes WHERE id = ?");
        node->bind_all(*node_id);
        if (!node->step()) throw NotFound("node " + id_text(*node_id) + " does not exist");
        const std::string name = node->text(0);
        if (const auto other = maintained_by(*node_id); other && other->id != id) {
            auto image = db_.prepare("SELECT name FROM images WHERE id = ?");
            image->bind_all(other->image_id);
            image->step();
            throw Conflict("on", "node '" + name +
                                     "' is already the maintenance machine of the draft of image '" +
                                     image->text(0) + "': commit or discard that draft first");
        }
    }
    auto update = db_.prepare("UPDATE versions SET maintenance_node_id = ? WHERE id = ?");
    update->bind_all(node_id, id);
    update->run();
}

std::optional<Version> VersionsRepo::maintained_by(std::int64_t node_id) {
    auto query = db_.prepare(std::string(version_columns) + "WHERE v.maintenance_node_id = ?");
    query->bind_all(node_id);
    if (!query->step()) return std::nullopt;
    return read_version(*query);
}

std::vector<Version> VersionsRepo::maintained() {
    auto query =
        db_.prepare(std::string(version_columns) + "WHERE v.maintenance_node_id IS NOT NULL ORDER BY v.id");
    std::vector<Version> versions;
    while (query->step())
        versions.push_back(read_version(*query));
    return versions;
}

Version VersionsRepo::seal(std::int64_t id, std::int64_t file_bytes, std::string_view sha256) {
    if (get(id).state != VersionState::draft) {
        throw Conflict("version", "version " + id_text(id) + " is already sealed");
    }
    if (file_bytes < 0) throw InvalidArgument("file_bytes", "must not be negative");
    require_sha256_hex(sha256);
    auto update = db_.prepare(
        "UPDATE versions SET state = 'sealed', sealed_at = ?, file_bytes = ?, sha256 = ?, chap_user = NULL, "
        "chap_secret = NULL, maintenance_node_id = NULL WHERE id = ?");
    update->bind_all(now_ms(), file_bytes, sha256, id);
    update->run();
    return get(id);
}

void VersionsRepo::set_sha256(std::int64_t id, std::string_view sha256) {
    require_sha256_hex(sha256);
    const Version version = get(id);
    if (version.state != VersionState::sealed)
        throw Conflict("version", "version " + id_text(id) + " is a draft: its hash is recorded when sealed");
    if (version.sha256) {
        if (*version.sha256 != sha256)
            throw Conflict("sha256", "version " + id_text(id) + " already has SHA-256 " + *version.sha256);
        return;
    }
    auto update = db_.prepare("UPDATE versions SET sha256 = ? WHERE id = ?");
    update->bind_all(sha256, id);
    update->run();
}

std::vector<Version> VersionsRepo::sealed_without_sha256() {
    auto query = db_.prepare(std::string(version_columns) +
                             "WHERE v.state = 'sealed' AND v.sha256 IS NULL ORDER BY v.id");
    std::vector<Version> versions;
    while (query->step())
        versions.push_back(read_version(*query));
    return versions;
}

void VersionsRepo::set_note(std::int64_t id, std::string_view note) {
    auto update = db_.prepare("UPDATE versions SET note = ? WHERE id = ?");
    update->bind_all(note, id);
    update->run();
    if (db_.changes() == 0) throw NotFound("version " + id_text(id) + " does not exist");
}

void VersionsRepo::remove(std::int64_t id) {
    const Version version = get(id);
    if (version.state == VersionState::sealed) {
        const auto needed = needed_ids(version.image_id, 0);
        if (std::binary_search(needed.begin(), needed.end(), id)) {
            throw Conflict("version",
                           "version " + id_text(id) +
                               " is in use (promoted, a node's disk, in a rollout, or the parent of one)");
        }
    }
    auto children = db_.prepare("SELECT count(*) FROM versions WHERE parent_version_id = ?");
    children->bind_all(id);
    children->step();
    if (children->int64(0) != 0) throw Conflict("version", "version " + id_text(id) + " has child versions");
    auto erase = db_.prepare("DELETE FROM versions WHERE id = ?");
    erase->bind_all(id);
    erase->run();
}

std::vector<std::int64_t> VersionsRepo::needed_ids(std::int64_t image_id, int keep_last) {
    auto query = db_.prepare(needed_query);
    query->bind_all(image_id, keep_last);
    std::vector<std::int64_t> ids;
    while (query->step())
        ids.push_back(query->int64(0));
    return ids;
}

std::vector<std::int64_t> VersionsRepo::in_use_ids(std::int64_t image_id) {
    return needed_ids(image_id, 0);
}

std::vector<Version> VersionsRepo::gc_candidates(std::int64_t image_id, int keep_last) {
    if (keep_last < 0) throw InvalidArgument("keep_last", "must not be negative");
    const auto needed = needed_ids(image_id, keep_last);
    std::vector<Version> candidates;
    for (auto& version : list(image_id)) {
        if (!std::binary_search(needed.begin(), needed.end(), version.id))
            candidates.push_back(std::move(version));
    }
    std::reverse(candidates.begin(), candidates.end());
    return candidates;
}

}  // namespace bootherd::db
