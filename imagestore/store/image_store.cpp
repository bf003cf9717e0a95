#include "imagestore/store/image_store.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <set>

#include "common/log.hpp"
#include "common/sha256_file.hpp"
#include "db/credentials.hpp"
#include "db/error.hpp"
#include "db/identifiers.hpp"
#include "imagestore/image_error.hpp"
#include "imagestore/image_file.hpp"
#include "imagestore/image_format.hpp"
#include "imagestore/store/catalog_targets.hpp"
#include "imagestore/store/private_modes.hpp"
#include "imagestore/store/store_lock.hpp"
#include "imagestore/vhdx_file.hpp"

namespace bootherd::imagestore::store {
namespace fs = std::filesystem;
namespace {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string in_quotes(std::string_view text) {
    return "'" + std::string(text) + "'";
}

std::int64_t next_version_number(db::Catalog::Session& session, std::int64_t image_id) {
    std::int64_t highest = 0;
    for (const auto& v : session.versions().list(image_id))
        highest = std::max(highest, v.number);
    return highest + 1;
}

std::string version_path(std::string_view image, std::int64_t number) {
    return "images/" + std::string(image) + "/v" + std::to_string(number) + ".vhdx";
}

std::vector<db::Node> all_nodes(db::Catalog::Session& session) {
    std::vector<db::Node> nodes;
    db::NodeFilter filter;
    filter.limit = 10000;
    while (true) {
        auto page = session.nodes().list(filter);
        nodes.insert(nodes.end(), page.nodes.begin(), page.nodes.end());
        filter.offset += static_cast<std::int64_t>(page.nodes.size());
        if (page.nodes.empty() || filter.offset >= page.total) break;
    }
    return nodes;
}

void make_read_only(const fs::path& file) {
    fs::permissions(file, fs::perms::owner_read, fs::perm_options::replace);
}

// Lists at most a few paths, then how many more.
// A draft's own CHAP credentials: only who was told them (`image show`, the API) can log in to it.
void give_credentials(db::Catalog::Session& session, std::int64_t draft_id) {
    session.versions().set_chap(draft_id, db::random_credential(db::chap_user_length),
                                db::random_credential(db::chap_secret_length));
}

std::string some_of(const std::vector<std::string>& paths) {
    constexpr std::size_t shown = 8;
    std::string text;
    for (std::size_t i = 0; i < paths.size() && i < shown; ++i)
        text += (i ? ", " : "") + paths[i];
    if (paths.size() > shown) text += " and " + std::to_string(paths.size() - shown) + " more";
    return text;
}

bool inside(const fs::path& file, const fs::path& dir) {
    const auto [dir_end, file_it] = std::mismatch(dir.begin(), dir.end(), file.begin(), file.end());
    return dir_end == dir.end() && file_it != file.end();
}

// Holds the draft's write lock (the one a read-write VhdxFile takes), so a running `bootherd serve` cannot
// open the draft meanwhile; refuses when it has it open already: a served draft is open exactly while some
// session is logged in to its target. `maintainer`: the draft's maintenance machine, the only initiator its
// target admits. A missing file holds nothing.
std::unique_ptr<ImageFile> lock_draft(const fs::path& file, std::string_view image, std::string_view action,
                                      const std::optional<db::Node>& maintainer) {
    if (!fs::exists(file)) return nullptr;
    auto locked = std::make_unique<ImageFile>(file.string(), ImageFile::Access::read_write);
    if (locked->try_lock_exclusive()) return locked;
    const std::string why = " (cannot " + std::string(action) + " while its target " + draft_iqn(image) +
                            " is open for writing, by a running `bootherd serve`, or by another command)";
    if (maintainer)
        throw StoreError("node " + maintainer->name + " is still logged in to the draft of image " +
                         in_quotes(image) + ": shut it down first" + why);
    throw StoreError("a machine is still logged in to the draft of image " + in_quotes(image) +
                     ": log it out first" + why);
}

// True when some open file description (a served chain, in this process or another) holds the file's write
// lock. A missing file is not in use.
bool open_for_writing(const fs::path& file) {
    try {
        ImageFile probe(file.string(), ImageFile::Access::read_write);
        return !probe.try_lock_exclusive();
    } catch (const ImageError&) {
        return false;
    }
}

// While a rollout is active it decides which version the image's machines boot and promotes at its end.
void refuse_during_rollout(db::Catalog::Session& session, const db::Image& image, std::string_view what) {
    const auto rollout = session.rollouts().active_for_image(image.id);
    if (!rollout) return;
    throw db::Conflict(
        "image", "rollout " + std::to_string(rollout->id) + " (v" + std::to_string(rollout->from_number) +
                     " -> v" + std::to_string(rollout->to_number) + ") is " +
                     std::string(db::to_string(rollout->state)) + " on image " + image.name + ": " +
                     std::string(what) + " is refused until it ends (bootherd rollout abort " +
                     std::to_string(rollout->id) + ")");
}

}  // namespace

std::uint64_t allocated_bytes(const fs::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return 0;
    return static_cast<std::uint64_t>(st.st_blocks) * 512u;
}

ImageStore::ImageStore(const fs::path& data_dir, const fs::path& import_dir, const std::string& catalog,
                       const std::string& server_name)
    : server_name_(server_name),
      data_dir_((fs::create_directories(data_dir), fs::absolute(data_dir).lexically_normal())),
      import_dir_(import_dir.empty() ? data_dir_ / "import" : fs::absolute(import_dir).lexically_normal()),
      catalog_(db::Catalog::open(catalog.empty() ? (data_dir_ / "catalog.db").string() : catalog)) {
    fs::create_directories(data_dir_ / "images");
    fs::create_directories(data_dir_ / "nodes");
    fs::create_directories(data_dir_ / "tmp");
    if (fs::create_directories(import_dir_))
        fs::permissions(import_dir_, fs::perms::owner_all, fs::perm_options::replace);
    if (const auto fixed = make_private(data_dir_); !fixed.empty())
        log::warn("image store: took group and other access away from ", fixed.size(), " path(s) in ",
                  data_dir_.string(), " (they hold secrets and disks): ", some_of(fixed));
    // Whoever may write there may swap a checked file for a link between the check and the copy.
    if ((fs::status(import_dir_).permissions() & (fs::perms::group_write | fs::perms::others_write)) !=
        fs::perms::none)
        log::warn("image store: the import directory ", import_dir_.string(),
                  " is writable by group or others; only its owner should be able to put files there");
    give_drafts_credentials();
    startup_report_ = sweep_orphans();
    if (startup_report_.skipped)
        log::debug("image store: another process is changing files; orphan sweep skipped");
    for (const auto& file : startup_report_.removed_files)
        log::warn("image store: removed orphan file ", file, " (no catalog row referenced it)");
    for (const auto& row : startup_report_.missing_versions)
        log::error("image store: version ", row, " is missing its file; nodes on it cannot boot");
    for (const auto& row : startup_report_.missing_node_disks)
        log::warn("image store: disk of node ", row, " is missing; it will be recreated at the next boot");
}

void ImageStore::remove_file(const std::string& relative_path) const {
    std::error_code ec;
    fs::remove(absolute(relative_path), ec);
    if (ec) log::warn("image store: could not delete ", relative_path, ": ", ec.message());
}

void ImageStore::give_drafts_credentials() {
    auto session = catalog_.session();
    for (const auto& image : session.images().list())
        for (const auto& version : session.versions().list(image.id))
            if (version.state == db::VersionState::draft && !version.chap_secret) {
                give_credentials(session, version.id);
                log::warn("image store: the draft of image ", in_quotes(image.name),
                          " had no CHAP credentials of its own; it has now (`bootherd image show ",
                          image.name, "`)");
            }
}

fs::path ImageStore::import_dir_file(const fs::path& requested) const {
    const std::string where = "only files inside the import directory " + import_dir_.string() +
                              " can be imported through the API (after resolving symbolic links); copy the "
                              "file there, or run `bootherd image import` on the server";
    if (!requested.is_absolute()) throw db::InvalidArgument("path", "must be an absolute path; " + where);
    std::error_code missing, no_dir;
    const fs::path resolved = fs::canonical(requested, missing);
    const fs::path dir = fs::canonical(import_dir_, no_dir);
    // The same answer whether an outside file exists or not: the API is no probe of the server's files.
    if (no_dir || !inside(missing ? requested.lexically_normal() : resolved, dir))
        throw db::InvalidArgument("path", requested.string() + ": " + where);
    if (missing) throw db::InvalidArgument("path", requested.string() + ": no such file");
    std::error_code ec;
    if (!fs::is_regular_file(resolved, ec))
        throw db::InvalidArgument("path", requested.string() + ": not a regular file");
    return resolved;
}

void ImageStore::remove_disk_when_unused(const std::string& relative_path) {
    if (!open_for_writing(absolute(relative_path))) {
        remove_file(relative_path);
        return;
    }
    log::info("image store: ", relative_path,
              " is still open for writing: deleted once it is closed (or by a later orphan sweep)");
    const std::lock_guard lock(pending_mutex_);
    pending_removals_.push_back(relative_path);
}

void ImageStore::remove_unused_disks() {
    std::vector<std::string> pending;
    {
        const std::lock_guard lock(pending_mutex_);
        pending.swap(pending_removals_);
    }
    std::vector<std::string> still_open;
    for (auto& path : pending) {
        if (open_for_writing(absolute(path)))
            still_open.push_back(std::move(path));
        else
            remove_file(path);
    }
    const std::lock_guard lock(pending_mutex_);
    pending_removals_.insert(pending_removals_.end(), still_open.begin(), still_open.end());
}

db::Image ImageStore::require_image(db::Catalog::Session& session, std::string_view name) {
    auto image = session.images().find_by_name(name);
    if (!image) throw db::NotFound("image " + in_quotes(name) + " does not exist");
    return *image;
}

db::Node ImageStore::require_node(db::Catalog::Session& session, std::string_view name) {
    auto node = session.nodes().find_by_name(name);
    if (!node) throw db::NotFound("node " + in_quotes(name) + " does not exist");
    return *node;
}

// --- images and versions ---

db::Version ImageStore::seal_new_version(std::int64_t image_id, std::optional<std::int64_t> parent,
                                         const fs::path& staged_file, std::string_view note) {
    // Hashed before the catalog is locked: reading a large image must not stall everyone else.
    const std::string sha256 = sha256_file(staged_file);
    StoreLock lock(lock_file(), StoreLock::Mode::shared);
    auto session = catalog_.session();
    db::Transaction transaction(session.database());
    const db::Image image = session.images().get(image_id);
    const std::int64_t number = next_version_number(session, image_id);
    const std::string relative = version_path(image.name, number);
    const fs::path final_path = absolute(relative);
    fs::create_directories(final_path.parent_path());
    if (fs::exists(final_path)) throw StoreError(final_path.string() + ": already exists");
    fs::rename(staged_file, final_path);
    try {
        make_read_only(final_path);
        db::NewVersion row;
        row.image_id = image_id;
        row.parent_version_id = parent;
        row.file_path = relative;
        row.size_bytes = static_cast<std::int64_t>(
            VhdxFile::open(final_path.string(), OpenMode::read_only)->virtual_size());
        row.note = std::string(note);
        auto draft = session.versions().add_draft(row);
        auto sealed =
            session.versions().seal(draft.id, static_cast<std::int64_t>(allocated_bytes(final_path)), sha256);
        transaction.commit();
        return sealed;
    } catch (...) {
        std::error_code ignored;
        fs::remove(final_path, ignored);
        throw;
    }
}

db::Version ImageStore::import_image(std::string_view name, const fs::path& file,
                                     const ImportOptions& options) {
    db::require_valid_name("name", name);
    {
        auto session = catalog_.session();
        if (session.images().find_by_name(name))
            throw db::Conflict("name", "image " + in_quotes(name) + " exists");
    }
    StoreLock lock(lock_file(), StoreLock::Mode::shared);  // the staged file is not an orphan
    const fs::path staged =
        data_dir_ / "tmp" / ("import-" + std::string(name) + "-" + std::to_string(now_ms()) + ".vhdx");
    try {
        ImportSource source(file, data_dir_ / "tmp");
        // The one file only: ImportSource refused any image with a parent.
        ImageChain image({open_layer(source.path().string())}, nullptr);
        copy_to_vhdx(image, staged, options.block_size, options.progress);
    } catch (...) {
        std::error_code ignored;
        fs::remove(staged, ignored);
        throw;
    }
    try {
        auto session = catalog_.session();
        db::Transaction transaction(session.database());
        const db::Image image = session.images().create(name, "imported from " + file.filename().string());
        auto version = seal_new_version(image.id, std::nullopt, staged, "import of " + file.string());
        session.images().promote(image.id, version.id);
        transaction.commit();
        return session.versions().get(version.id);
    } catch (...) {
        std::error_code ignored;
        fs::remove(staged, ignored);
        throw;
    }
}

std::optional<db::Version> ImageStore::draft(std::string_view image_name) {
    auto session = catalog_.session();
    const db::Image image = require_image(session, image_name);
    for (auto& version : session.versions().list(image.id))
        if (version.state == db::VersionState::draft) return version;
    return std::nullopt;
}

db::Version ImageStore::edit(std::string_view image_name) {
    StoreLock lock(lock_file(), StoreLock::Mode::shared);
    auto session = catalog_.session();
    db::Transaction transaction(session.database());
    const db::Image image = require_image(session, image_name);
    if (auto existing = draft(image_name))
        throw db::Conflict("draft", "image " + in_quotes(image_name) + " already has a draft (v" +
                                        std::to_string(existing->number) + "): commit or discard it first");
    if (!image.promoted_version_id)
        throw StoreError("image " + in_quotes(image_name) + " has no promoted version to edit");
    const db::Version base = session.versions().get(*image.promoted_version_id);
    const std::string relative = version_path(image.name, next_version_number(session, image.id));
    VhdxFile::create_differencing(absolute(relative).string(), absolute(base.file_path).string())->close();
    try {
        db::NewVersion row;
        row.image_id = image.id;
        row.parent_version_id = base.id;
        row.file_path = relative;
        row.size_bytes = base.size_bytes;
        row.file_bytes = static_cast<std::int64_t>(allocated_bytes(absolute(relative)));
        row.note = "draft on v" + std::to_string(base.number);
        auto version = session.versions().add_draft(row);
        give_credentials(session, version.id);
        transaction.commit();
        return session.versions().get(version.id);
    } catch (...) {
        remove_file(relative);
        throw;
    }
}

Maintenance ImageStore::maintain(std::string_view image_name, std::string_view node_name) {
    db::Node node;
    {
        auto session = catalog_.session();
        const db::Image image = require_image(session, image_name);
        node = require_node(session, node_name);
        if (!node.enabled)
            throw db::Conflict("on", "node " + in_quotes(node.name) +
                                         " is disabled (it boots its local disk): enable it first");
        if (const auto other = session.versions().maintained_by(node.id);
            other && other->image_id != image.id)
            throw db::Conflict("on", "node " + in_quotes(node.name) +
                                         " is already the maintenance machine of the draft of image " +
                                         in_quotes(session.images().get(other->image_id).name) +
                                         ": commit or discard that draft first");
    }
    Maintenance result{.image = std::string(image_name), .node = node};
    auto current = draft(image_name);
    if (!current) {
        current = edit(image_name);
        result.draft_created = true;
    }
    if (current->maintenance_node_id != node.id) {
        // Nobody may be logged in while the maintenance machine changes, and nobody can log in meanwhile.
        const auto locked = lock_draft(absolute(current->file_path), image_name,
                                       "change its maintenance machine", maintenance_node(*current));
        auto session = catalog_.session();
        session.versions().set_maintenance_node(current->id, node.id);
        current = session.versions().get(current->id);
    }
    result.draft = *current;
    return result;
}

std::optional<Maintenance> ImageStore::maintenance_of(const db::Node& node) {
    auto session = catalog_.session();
    auto draft = session.versions().maintained_by(node.id);
    if (!draft) return std::nullopt;
    return Maintenance{.image = session.images().get(draft->image_id).name, .draft = *draft, .node = node};
}

std::optional<db::Node> ImageStore::maintenance_node(const db::Version& draft) {
    if (!draft.maintenance_node_id) return std::nullopt;
    return catalog_.session().nodes().find(*draft.maintenance_node_id);
}

db::Version ImageStore::commit(std::string_view image_name) {
    auto current = draft(image_name);
    if (!current)
        throw StoreError("image " + in_quotes(image_name) +
                         " has no draft to commit (run `image edit` first)");
    const fs::path file = absolute(current->file_path);
    // Refuses early, with a clear error; released for the open below.
    lock_draft(file, image_name, "commit", maintenance_node(*current));
    // Opening read-write replays and clears any log left by a crashed writer, so the sealed file is final.
    // The open file keeps the write lock until the row is sealed: a server cannot start writing to it
    // meanwhile.
    auto draft_file = VhdxFile::open(file.string(), OpenMode::read_write);
    draft_file->close();
    const std::string sha256 = sha256_file(file);
    auto session = catalog_.session();
    auto sealed =
        session.versions().seal(current->id, static_cast<std::int64_t>(allocated_bytes(file)), sha256);
    make_read_only(file);
    return sealed;
}

void ImageStore::discard(std::string_view image_name) {
    auto current = draft(image_name);
    if (!current) throw StoreError("image " + in_quotes(image_name) + " has no draft to discard");
    StoreLock lock(lock_file(), StoreLock::Mode::shared);  // a sweep must not see the row before it goes
    auto locked = lock_draft(absolute(current->file_path), image_name, "discard", maintenance_node(*current));
    catalog_.session().versions().remove(current->id);
    remove_file(current->file_path);
}

db::Version ImageStore::promote(std::string_view image_name, std::int64_t number) {
    auto session = catalog_.session();
    const db::Image image = require_image(session, image_name);
    refuse_during_rollout(session, image, "promote");
    auto version = session.versions().find_by_number(image.id, number);
    if (!version)
        throw db::NotFound("image " + in_quotes(image_name) + " has no version " + std::to_string(number));
    if (version->state != db::VersionState::sealed)
        throw db::Conflict("version",
                           "v" + std::to_string(number) + " is a draft: commit it before promoting");
    session.images().promote(image.id, version->id);
    return session.versions().get(version->id);
}

db::Version ImageStore::rollback(std::string_view image_name) {
    auto session = catalog_.session();
    const db::Image image = require_image(session, image_name);
    refuse_during_rollout(session, image, "rollback");
    return session.versions().get(session.images().rollback(image.id));
}

std::vector<db::Version> ImageStore::versions(std::string_view image_name) {
    auto session = catalog_.session();
    return session.versions().list(require_image(session, image_name).id);
}

db::Version ImageStore::flatten(std::string_view image_name, std::int64_t number, const Progress& progress) {
    db::Version source;
    {
        auto session = catalog_.session();
        const db::Image image = require_image(session, image_name);
        auto found = session.versions().find_by_number(image.id, number);
        if (!found)
            throw db::NotFound("image " + in_quotes(image_name) + " has no version " +
                               std::to_string(number));
        if (found->state != db::VersionState::sealed)
            throw db::Conflict("version",
                               "v" + std::to_string(number) + " is a draft: commit it before flattening");
        source = *found;
    }
    StoreLock lock(lock_file(), StoreLock::Mode::shared);  // the staged file is not an orphan
    const fs::path staged =
        data_dir_ / "tmp" / ("flatten-" + std::string(image_name) + "-" + std::to_string(now_ms()) + ".vhdx");
    try {
        auto chain = layers_.open_chain(absolute(source.file_path).string(), false);
        std::uint32_t block_size = kDefaultBlockSize;
        if (auto top = std::dynamic_pointer_cast<VhdxFile>(chain->layers().front()))
            block_size = top->block_size();
        copy_to_vhdx(*chain, staged, block_size, progress);
        return seal_new_version(source.image_id, std::nullopt, staged,
                                "flattened from v" + std::to_string(number));
    } catch (...) {
        std::error_code ignored;
        fs::remove(staged, ignored);
        throw;
    }
}

namespace {

// "machine(s) pc1, pc2", or nothing when `names` is empty.
std::string named(std::string_view what, const std::vector<std::string>& names) {
    if (names.empty()) return {};
    std::string text(what);
    for (std::size_t i = 0; i < names.size(); ++i)
        text += (i == 0 ? " " : ", ") + names[i];
    return text;
}

// Everything that keeps `image` from being deleted, one phrase each; empty when nothing does.
std::vector<std::string> image_users(db::Catalog::Session& session, const db::Image& image) {
    std::set<std::int64_t> version_ids;
    std::optional<db::Version> draft;
    for (const auto& version : session.versions().list(image.id)) {
        version_ids.insert(version.id);
        if (version.state == db::VersionState::draft) draft = version;
    }
    std::vector<std::string> machines, groups, users;
    for (const auto& node : all_nodes(session))
        if (node.image_id == image.id ||
            (node.disk_version_id && version_ids.contains(*node.disk_version_id)))
            machines.push_back(node.name);
    for (const auto& group : session.groups().list())
        if (group.image_id == image.id) groups.push_back(group.name);
    if (!machines.empty()) users.push_back(named("machine(s)", machines));
    if (!groups.empty()) users.push_back(named("group(s)", groups));
    if (const auto rollout = session.rollouts().active_for_image(image.id))
        users.push_back("rollout " + std::to_string(rollout->id) + " (" +
                        std::string(db::to_string(rollout->state)) + ")");
    if (draft) {
        std::string phrase = "the draft v" + std::to_string(draft->number);
        if (draft->maintenance_node_id)
            if (const auto node = session.nodes().find(*draft->maintenance_node_id))
                phrase += " maintained by " + node->name;
        users.push_back(phrase);
    }
    return users;
}

}  // namespace

void ImageStore::remove_image(std::string_view image_name) {
    StoreLock lock(lock_file(), StoreLock::Mode::shared);
    std::vector<db::Version> versions;
    {
        auto session = catalog_.session();
        const db::Image image = require_image(session, image_name);
        if (const auto users = image_users(session, image); !users.empty()) {
            std::string text;
            for (const auto& user : users)
                text += (text.empty() ? "" : "; ") + user;
            throw db::Conflict("image", in_quotes(image_name) + " is still used by " + text);
        }
        versions = session.versions().list(image.id);
        session.images().remove(image.id);  // the rows first: a crash leaves orphan files, not dangling rows
    }
    for (const auto& version : versions)
        remove_file(version.file_path);
    std::error_code ignored;
    fs::remove(absolute("images/" + std::string(image_name)), ignored);  // only when empty
}

std::vector<db::Version> ImageStore::gc(int keep_last) {
    if (keep_last < 0) throw db::InvalidArgument("keep", "must not be negative");
    std::vector<db::Version> removed;
    StoreLock lock(lock_file(), StoreLock::Mode::shared);
    auto session = catalog_.session();
    for (const auto& image : session.images().list()) {
        for (const auto& version : session.versions().gc_candidates(image.id, keep_last)) {
            session.versions().remove(
                version.id);  // the row first: a crash leaves an orphan file, not a dangling row
            remove_file(version.file_path);
            removed.push_back(version);
        }
    }
    return removed;
}

// --- nodes ---

db::Node ImageStore::replace_disk(std::int64_t node_id, std::optional<std::int64_t> version_id) {
    StoreLock lock(lock_file(), StoreLock::Mode::shared);
    db::Node node;
    db::Version base;
    {
        auto session = catalog_.session();
        node = session.nodes().get(node_id);
        if (!node.effective_image_id)
            throw StoreError("node " + in_quotes(node.name) +
                             " has no image (give it one, or a group with one)");
        const db::Image image = session.images().get(*node.effective_image_id);
        if (!version_id && !image.promoted_version_id)
            throw StoreError("image " + in_quotes(image.name) + " of node " + in_quotes(node.name) +
                             " has no promoted version");
        base = session.versions().get(version_id ? *version_id : *image.promoted_version_id);
        if (base.image_id != image.id || base.state != db::VersionState::sealed)
            throw StoreError("v" + std::to_string(base.number) + " is not a sealed version of image " +
                             in_quotes(image.name) + " of node " + in_quotes(node.name));
    }
    // The file is made outside the catalog session (it syncs); the random part keeps two boots of the same
    // node in the same millisecond apart.
    std::random_device random;
    const std::string relative = "nodes/" + node.name + "-" + std::to_string(now_ms()) + "-" +
                                 std::to_string(random() % 100000) + ".vhdx";
    VhdxFile::create_differencing(absolute(relative).string(), absolute(base.file_path).string())->close();
    std::optional<std::string> replaced;
    try {
        auto session = catalog_.session();
        db::Transaction transaction(session.database());
        replaced = session.nodes().get(node_id).disk_path;  // what is current now, not what we read above
        session.nodes().set_disk(node_id, base.id, relative);
        transaction.commit();
    } catch (...) {
        remove_file(relative);
        throw;
    }
    if (replaced) remove_disk_when_unused(*replaced);
    return catalog_.session().nodes().get(node_id);
}

db::Node ImageStore::add_node(const db::NewNode& new_node) {
    db::Node node = catalog_.session().nodes().add(new_node);
    return ensure_disk(node.id);
}

db::Node ImageStore::ensure_disk(std::int64_t node_id) {
    db::Node node;
    {
        auto session = catalog_.session();
        node = session.nodes().get(node_id);
        if (node.disk_path) return node;
        if (!node.effective_image_id) return node;
        if (!node.disk_version_id && !session.images().get(*node.effective_image_id).promoted_version_id)
            return node;
    }
    return replace_disk(node_id, node.disk_version_id);
}

void ImageStore::disk_made_elsewhere(std::int64_t node_id, std::int64_t version_id) {
    std::optional<std::string> replaced;
    {
        auto session = catalog_.session();
        db::Transaction transaction(session.database());
        replaced = session.nodes().get(node_id).disk_path;
        session.nodes().set_disk(node_id, version_id, std::nullopt);
        transaction.commit();
    }
    if (replaced && fs::exists(absolute(*replaced))) remove_disk_when_unused(*replaced);
}

// Bulk enrolment writes catalog rows only: each node's differencing disk is made at its first boot (script
// fetch or iSCSI login, both through ensure_disk), so enrolling a thousand machines costs one transaction
// rather than a thousand synced files.
db::ImportReport ImageStore::import_nodes(std::string_view csv_text) {
    return catalog_.session().nodes().import_csv(csv_text);
}

db::Node ImageStore::reset_node(std::string_view name) {
    std::int64_t id;
    {
        auto session = catalog_.session();
        id = require_node(session, name).id;
    }
    return replace_disk(id);
}

void ImageStore::remove_node(std::string_view name) {
    StoreLock lock(lock_file(), StoreLock::Mode::shared);
    db::Node node;
    {
        auto session = catalog_.session();
        node = require_node(session, name);
        session.nodes().remove(node.id);
    }
    if (node.disk_path) remove_disk_when_unused(*node.disk_path);
}

db::Node ImageStore::begin_boot(std::int64_t node_id, BootStart start, const DiskUsage& usage,
                                std::optional<std::int64_t> version_id) {
    remove_unused_disks();
    db::Node node = catalog_.session().nodes().get(node_id);
    if (node.effective_persistent) return ensure_disk(node_id);
    if (node.disk_path && start == BootStart::unannounced && usage.has_sessions(node)) {
        log::info("image store: ", node.name, " has a live session on ", *node.disk_path,
                  " and announced no new boot: its disk is kept");
        return node;
    }
    return replace_disk(node_id, version_id);
}

NodeStatus ImageStore::status(const db::Node& node) {
    auto session = catalog_.session();
    NodeStatus status{.node = node};
    std::optional<std::int64_t> promoted;
    if (node.effective_image_id) {
        const db::Image image = session.images().get(*node.effective_image_id);
        status.image = image.name;
        promoted = image.promoted_version_id;
    }
    if (node.disk_version_id) {
        const db::Version version = session.versions().get(*node.disk_version_id);
        status.disk_version = version.number;
        status.outdated = promoted && *promoted != version.id;
    }
    if (const auto draft = session.versions().maintained_by(node.id)) {
        status.maintenance_image = session.images().get(draft->image_id).name;
        status.maintenance_version = draft->number;
    }
    return status;
}

std::vector<NodeStatus> ImageStore::list_nodes() {
    std::vector<NodeStatus> result;
    auto session = catalog_.session();
    for (const auto& node : all_nodes(session))
        result.push_back(status(node));
    return result;
}

SweepReport ImageStore::sweep_orphans() {
    StoreLock lock(lock_file(), StoreLock::Mode::try_exclusive);
    SweepReport report;
    if (!lock.held()) {
        report.skipped = true;
        return report;
    }
    auto session = catalog_.session();
    remove_orphan_files(session, report);
    check_rows(session, report);
    return report;
}

void ImageStore::remove_orphan_files(db::Catalog::Session& session, SweepReport& report) {
    const auto referenced_list = session.referenced_file_paths();
    const std::set<std::string> referenced(referenced_list.begin(), referenced_list.end());
    for (const char* folder : {"images", "nodes"}) {
        std::vector<fs::path> orphans;
        for (const auto& entry : fs::recursive_directory_iterator(data_dir_ / folder)) {
            if (!entry.is_regular_file()) continue;
            const std::string relative = fs::relative(entry.path(), data_dir_).generic_string();
            // A file open for writing belongs to a running server's session: a later sweep takes it.
            if (!referenced.contains(relative) && !open_for_writing(entry.path()))
                orphans.push_back(entry.path());
        }
        for (const auto& orphan : orphans) {
            fs::remove(orphan);
            report.removed_files.push_back(fs::relative(orphan, data_dir_).generic_string());
        }
    }
    for (const auto& entry : fs::directory_iterator(data_dir_ / "tmp")) {
        report.removed_files.push_back(fs::relative(entry.path(), data_dir_).generic_string());
        fs::remove_all(entry.path());
    }
}

void ImageStore::check_rows(db::Catalog::Session& session, SweepReport& report) {
    // With several servers, versions are pulled as needed (replication/) and a machine's disk lives on its
    // home: what another server holds is not missing here.
    const bool shared = !session.servers().list().empty();
    std::optional<std::int64_t> self;
    if (const auto server = session.servers().find_by_name(server_name_); server && !server_name_.empty())
        self = server->id;
    if (!shared)
        for (const auto& image : session.images().list())
            for (const auto& version : session.versions().list(image.id))
                if (!fs::exists(absolute(version.file_path)))
                    report.missing_versions.push_back(image.name + " v" + std::to_string(version.number) +
                                                      ": " + version.file_path);
    for (const auto& node : all_nodes(session)) {
        if (shared && node.home_server_id && node.home_server_id != self) continue;
        if (node.disk_path && !fs::exists(absolute(*node.disk_path))) {
            report.missing_node_disks.push_back(node.name + ": " + *node.disk_path);
            session.nodes().set_disk(node.id, std::nullopt, std::nullopt);
        }
    }
}

}  // namespace bootherd::imagestore::store
