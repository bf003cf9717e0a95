// ImageStore's drafts: editing an image (a draft on its promoted version), its maintenance machine, commit
// and discard (see image_store.hpp).
#include "imagestore/store/image_store.hpp"

#include "common/sha256_file.hpp"
#include "db/error.hpp"
#include "imagestore/image_error.hpp"
#include "imagestore/image_file.hpp"
#include "imagestore/store/catalog_targets.hpp"
#include "imagestore/store/store_lock.hpp"
#include "imagestore/store/store_support.hpp"
#include "imagestore/vhdx_file.hpp"

namespace bootherd::imagestore::store {
namespace fs = std::filesystem;
using namespace support;

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

}  // namespace bootherd::imagestore::store
