#pragma once
// The image store: golden images with sealed versions, drafts for maintenance, and one differencing disk per
// node, kept in a data directory next to the catalog:
//
//   <data>/catalog.db                    the SQLite catalog (db::Catalog), unless it is on PostgreSQL
//   <data>/images/<image>/v<N>.vhdx      version N (sealed files are chmod 0400; a draft is writable)
//   <data>/nodes/<node>-<ms>-<rand>.vhdx a node's differencing disk; a new name each time it is recreated,
//                                        so a running server notices the change by path alone
//   <data>/tmp/                          scratch space for imports and flattening (emptied at start-up)
//   <data>/import/                       where the API may import files from (import_dir(); another
//                                        directory may be given instead)
//   <data>/.lock                         see StoreLock
//
// Files and rows stay consistent across crashes: a file is created (and synced) before the row that points at
// it is committed, and a row is deleted before its file. What a crash leaves behind is found by
// sweep_orphans(), which open() runs: unreferenced files are deleted, rows whose file is missing are reported
// (node disks that vanished are dropped so the next boot recreates them). On a catalog several servers share,
// each data directory holds only its own machines' disks and the versions pulled so far, so only the disks of
// machines homed on this directory's server (or on none) are checked.
//
// Everything in the data directory is private to its owner (0700 directories, 0600 files, see
// make_private): the catalog holds CHAP secrets and the disks hold the machines' data.
//
// A replaced or removed node disk that some process still has open for writing (its flock is held: a `serve`
// with sessions on it) is not unlinked under them: the store retries at its next disk change or
// remove_unused_disks(), and the orphan sweep skips such files too.
//
// Thread-safe: the catalog serialises its sessions, and the layer registry has its own lock.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/catalog.hpp"
#include "imagestore/image_chain.hpp"
#include "imagestore/store/disk_usage.hpp"
#include "imagestore/store/image_copy.hpp"
#include "imagestore/store/shared_layers.hpp"

namespace bootherd::imagestore::store {

// Thrown for requests that make no sense in the store's current state (no draft to commit, unknown image...).
// Catalog errors (db::NotFound, db::Conflict, db::InvalidArgument) and ImageError pass through unchanged.
class StoreError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct SweepReport {
    std::vector<std::string> removed_files;     // relative paths deleted: no row referenced them
    std::vector<std::string> missing_versions;  // "image vN: path" rows whose file is gone (not fixable here)
    std::vector<std::string> missing_node_disks;  // "node: path" disks that vanished (reference dropped)
    bool skipped = false;  // another process was mid-mutation: nothing was checked, left for next time
    bool clean() const {
        return removed_files.empty() && missing_versions.empty() && missing_node_disks.empty();
    }
};

struct ImportOptions {
    std::uint32_t block_size = kDefaultBlockSize;
    Progress progress{};
};

// A node's disk state as `node list` shows it.
struct NodeStatus {
    db::Node node{};
    std::optional<std::string> image{};          // effective image name
    std::optional<std::int64_t> disk_version{};  // version number its disk sits on
    bool outdated = false;                       // persistent disk on a version older than the promoted one
    std::optional<std::string> maintenance_image{};  // the image whose draft it boots for maintenance
    std::optional<std::int64_t> maintenance_version{};
};

// A draft and the node that boots it for maintenance.
struct Maintenance {
    std::string image{};
    db::Version draft{};
    db::Node node{};
    bool draft_created = false;  // maintain() made the draft
};

class ImageStore {
  public:
    // Opens (creating if needed) the data directory and its catalog, takes group and other access away from
    // anything in it that has some, then sweeps orphans, logging what it fixed and found. `import_dir`
    // (default <data>/import) is created 0700 if missing. Throws db::Error,
    // std::filesystem::filesystem_error.
    // `catalog`: where the catalog is (db::Catalog::open); empty: the SQLite file <data_dir>/catalog.db.
    // `server_name`: on a catalog several servers share, the one this data directory belongs to (serve
    // --server-name): the sweep then checks only the node disks homed there (see check_rows).
    explicit ImageStore(const std::filesystem::path& data_dir, const std::filesystem::path& import_dir = {},
                        const std::string& catalog = {}, const std::string& server_name = {});
    ImageStore(const ImageStore&) = delete;
    ImageStore& operator=(const ImageStore&) = delete;

    const std::filesystem::path& data_dir() const { return data_dir_; }
    std::filesystem::path absolute(std::string_view relative_path) const { return data_dir_ / relative_path; }
    db::Catalog& catalog() { return catalog_; }
    SharedLayers& layers() { return layers_; }
    const SweepReport& startup_report() const { return startup_report_; }
    const std::filesystem::path& import_dir() const { return import_dir_; }

    // `requested` (absolute) resolved through every symbolic link, when that lands on a regular file inside
    // import_dir(); else db::InvalidArgument on field "path". What the API may import: nothing else of the
    // server's files.
    std::filesystem::path import_dir_file(const std::filesystem::path& requested) const;

    // --- images and versions ---
    // Creates image `name` with v1 = a copy of `file`, sealed and promoted. Any file the caller may read:
    // callers confine untrusted paths first (import_dir_file). The image must be self-contained (see
    // check_importable): ImageError otherwise.
    db::Version import_image(std::string_view name, const std::filesystem::path& file,
                             const ImportOptions& options = {});
    // A writable draft: a differencing disk on the promoted version, with its own random CHAP credentials for
    // the maintenance machine (Version::chap_user/chap_secret). Conflict if one exists already.
    db::Version edit(std::string_view image);
    // Makes `node` the maintenance machine of the image's draft (made first when there is none, else the
    // existing one): its next boot script sanboots the draft with the draft's own CHAP credentials instead of
    // its own disk, and the draft's target admits only that node (its initiator name, from its bound address
    // when it binds). One maintenance machine per draft: a new one replaces the old one, but only while
    // nobody is logged in to the draft (StoreError naming the node otherwise), since two machines writing one
    // file system corrupt it. Conflict (field "on") when the node is disabled or maintains another image's
    // draft. Naming the current maintenance machine again changes nothing.
    Maintenance maintain(std::string_view image, std::string_view node);
    // The draft `node` boots for maintenance, if any.
    std::optional<Maintenance> maintenance_of(const db::Node& node);
    // The draft's maintenance machine, if it has one.
    std::optional<db::Node> maintenance_node(const db::Version& draft);
    // Seals the draft as the image's next version (not promoted); its maintenance machine, if any, boots its
    // own disk again at its next boot. StoreError while a machine is logged in to the draft (the running
    // `bootherd serve` holds its write lock while any session is open).
    db::Version commit(std::string_view image);
    void discard(std::string_view image);
    // Promote and rollback are refused (Conflict, naming it) while a rollout is active on the image.
    db::Version promote(std::string_view image, std::int64_t number);
    // Moves back to the previously promoted version; returns it.
    db::Version rollback(std::string_view image);
    std::vector<db::Version> versions(std::string_view image);
    std::optional<db::Version> draft(std::string_view image);
    // A new sealed standalone version (no parent) with the same content as version `number`.
    db::Version flatten(std::string_view image, std::int64_t number, const Progress& progress = {});
    // Deletes the image with its versions, their files and its promotion history. Conflict (field "image")
    // naming everything that still uses it: machines set to it or with a disk on one of its versions,
    // groups with it as their default, an active rollout, a draft (and the machine maintaining it).
    void remove_image(std::string_view image);
    // Deletes, in every image, the sealed versions that nothing uses, keeping the newest `keep_last`.
    std::vector<db::Version> gc(int keep_last);

    // --- nodes ---
    // Enrols a node and creates its disk on the promoted version of its effective image, if there is one.
    db::Node add_node(const db::NewNode& node);
    // CSV enrolment (see db::NodesRepo::import_csv); disks are created for every imported node.
    db::ImportReport import_nodes(std::string_view csv_text);
    // Gives the node a fresh differencing disk on the current promoted version.
    db::Node reset_node(std::string_view node);
    void remove_node(std::string_view node);
    std::vector<NodeStatus> list_nodes();
    NodeStatus status(const db::Node& node);
    // A new boot of the node may begin (called by the boot chain when the node fetches its boot script,
    // which happens before the firmware's iSCSI login). Persistent nodes keep their disk, or get one if they
    // have none. A non-persistent node gets a fresh disk unless `usage` reports a session on its target and
    // the boot was not announced (see BootStart): a running machine's disk is never replaced by a fetch.
    // The fresh disk sits on `version_id` (a sealed version of the node's image, chosen by a rollout), or on
    // the promoted version when nullopt. Returns the node as it now is.
    db::Node begin_boot(std::int64_t node_id, BootStart start, const DiskUsage& usage,
                        std::optional<std::int64_t> version_id = std::nullopt);
    // Creates the node's disk if it has none (first boot, or a boot placed by another server), on the version
    // its row names, else on the promoted version; returns the node.
    db::Node ensure_disk(std::int64_t node_id);
    // A boot of the non-persistent node was placed on another server (docs/SCALE-OUT.md): its next disk is
    // made there, at its login, on `version_id`. Forgets the node's current disk (deleted here once unused,
    // when it was here).
    void disk_made_elsewhere(std::int64_t node_id, std::int64_t version_id);

    // Deletes the replaced disks that were still open when they were replaced, once nothing has them open.
    void remove_unused_disks();

    // Deletes orphan files (except files open for writing) and reports rows whose file is missing. Never
    // waits for another process: when one is changing files (an import may take minutes) the sweep is skipped
    // and `skipped` is set.
    SweepReport sweep_orphans();

  private:
    db::Image require_image(db::Catalog::Session& session, std::string_view name);
    db::Node require_node(db::Catalog::Session& session, std::string_view name);
    // Creates a fresh disk for the node on `version_id`, or on the promoted version when nullopt, then
    // deletes the old file.
    db::Node replace_disk(std::int64_t node_id, std::optional<std::int64_t> version_id = std::nullopt);
    db::Version seal_new_version(std::int64_t image_id, std::optional<std::int64_t> parent,
                                 const std::filesystem::path& staged_file, std::string_view note);
    // Drafts made before drafts had their own CHAP credentials get some.
    void give_drafts_credentials();
    void remove_orphan_files(db::Catalog::Session& session, SweepReport& report);
    void check_rows(db::Catalog::Session& session, SweepReport& report);
    std::filesystem::path lock_file() const { return data_dir_ / ".lock"; }
    void remove_file(const std::string& relative_path) const;
    // Unlinks a node disk now unless a process has it open for writing; then it is retried later.
    void remove_disk_when_unused(const std::string& relative_path);

    std::string server_name_;  // see the constructor
    std::filesystem::path data_dir_;
    std::filesystem::path import_dir_;
    db::Catalog catalog_;
    SharedLayers layers_;
    SweepReport startup_report_;
    std::mutex pending_mutex_;
    std::vector<std::string> pending_removals_;  // replaced disks still open when they were replaced
};

// Space the file takes on disk (allocated blocks, so holes are not counted).
std::uint64_t allocated_bytes(const std::filesystem::path& file);

}  // namespace bootherd::imagestore::store
