#include "db/images_repo.hpp"

#include "db/clock.hpp"
#include "db/error.hpp"
#include "db/identifiers.hpp"

namespace bootherd::db {
namespace {

constexpr std::string_view image_columns =
    "SELECT id, name, description, created_at, promoted_version_id, previous_promoted_version_id FROM "
    "images ";

Image read_image(const Statement& row) {
    return Image{row.int64(0), row.text(1), row.text(2), row.int64(3), row.opt_int64(4), row.opt_int64(5)};
}

std::optional<Image> query_one(Database& db, std::string_view where, const auto& key) {
    auto query = db.prepare(std::string(image_columns) + std::string(where));
    query->bind_all(key);
    if (!query->step()) return std::nullopt;
    return read_image(*query);
}

std::string id_text(std::int64_t id) {
    return std::to_string(id);
}

}  // namespace

Image ImagesRepo::create(std::string_view name, std::string_view description) {
    require_valid_name("name", name);
    Transaction tx(db_);
    if (find_by_name(name))
        throw Conflict("name", "an image named '" + std::string(name) + "' already exists");
    auto insert =
        db_.prepare("INSERT INTO images (name, description, created_at) VALUES (?, ?, ?) RETURNING id");
    insert->bind_all(name, description, now_ms());
    const std::int64_t id = insert->insert_returning_id();
    tx.commit();
    return get(id);
}

std::optional<Image> ImagesRepo::find(std::int64_t id) {
    return query_one(db_, "WHERE id = ?", id);
}

std::optional<Image> ImagesRepo::find_by_name(std::string_view name) {
    return query_one(db_, "WHERE name = ?", name);
}

Image ImagesRepo::get(std::int64_t id) {
    auto image = find(id);
    if (!image) throw NotFound("image " + id_text(id) + " does not exist");
    return *image;
}

std::vector<Image> ImagesRepo::list() {
    auto query = db_.prepare(std::string(image_columns) + "ORDER BY name");
    std::vector<Image> images;
    while (query->step())
        images.push_back(read_image(*query));
    return images;
}

void ImagesRepo::set_description(std::int64_t id, std::string_view description) {
    auto update = db_.prepare("UPDATE images SET description = ? WHERE id = ?");
    update->bind_all(description, id);
    update->run();
    if (db_.changes() == 0) throw NotFound("image " + id_text(id) + " does not exist");
}

void ImagesRepo::remove(std::int64_t id) {
    const Image image = get(id);
    {
        auto users = db_.prepare(
            "SELECT (SELECT count(*) FROM nodes WHERE image_id = ?1 OR disk_version_id IN "
            "          (SELECT id FROM versions WHERE image_id = ?1)),"
            "       (SELECT count(*) FROM groups WHERE image_id = ?1)");
        users->bind_all(id);
        users->step();
        if (users->int64(0) != 0 || users->int64(1) != 0) {
            throw Conflict("image", "image '" + image.name + "' is still used by " +
                                        id_text(users->int64(0)) + " node(s) and " +
                                        id_text(users->int64(1)) + " group(s)");
        }
    }
    // One statement: its versions and history cascade, and foreign keys are checked only once it completes,
    // so the image's references into its own versions never count as dangling.
    auto erase = db_.prepare("DELETE FROM images WHERE id = ?");
    erase->bind_all(id);
    erase->run();
}

std::vector<std::int64_t> ImagesRepo::live_promotion_versions(std::int64_t image_id, int limit) {
    auto query = db_.prepare(
        "SELECT version_id FROM promotions WHERE image_id = ? AND rolled_back_at IS NULL ORDER BY id DESC "
        "LIMIT ?");
    query->bind_all(image_id, limit);
    std::vector<std::int64_t> versions;
    while (query->step())
        versions.push_back(query->int64(0));
    return versions;
}

void ImagesRepo::promote(std::int64_t image_id, std::int64_t version_id) {
    Transaction tx(db_);
    const Image image = get(image_id);
    {
        auto version = db_.prepare("SELECT image_id, state FROM versions WHERE id = ?");
        version->bind_all(version_id);
        if (!version->step()) throw NotFound("version " + id_text(version_id) + " does not exist");
        if (version->int64(0) != image_id) {
            throw InvalidArgument("version", "version " + id_text(version_id) + " belongs to another image");
        }
        if (version->text(1) != "sealed") {
            throw Conflict("version",
                           "version " + id_text(version_id) + " is a draft; seal it before promoting");
        }
    }
    if (image.promoted_version_id == version_id) return;

    auto record = db_.prepare("INSERT INTO promotions (image_id, version_id, promoted_at) VALUES (?, ?, ?)");
    record->bind_all(image_id, version_id, now_ms());
    record->run();
    auto update = db_.prepare(
        "UPDATE images SET promoted_version_id = ?, previous_promoted_version_id = ? WHERE id = ?");
    update->bind_all(version_id, image.promoted_version_id, image_id);
    update->run();
    tx.commit();
}

std::int64_t ImagesRepo::rollback(std::int64_t image_id) {
    Transaction tx(db_);
    const Image image = get(image_id);
    // The newest live entries: [current, target, the one before target].
    const auto live = live_promotion_versions(image_id, 3);
    if (live.size() < 2) {
        throw Conflict("image", "image '" + image.name + "' has no earlier promotion to roll back to");
    }
    auto pop = db_.prepare(
        "UPDATE promotions SET rolled_back_at = ? WHERE id = "
        "(SELECT max(id) FROM promotions WHERE image_id = ? AND rolled_back_at IS NULL)");
    pop->bind_all(now_ms(), image_id);
    pop->run();
    const std::optional<std::int64_t> previous = live.size() > 2 ? std::optional(live[2]) : std::nullopt;
    auto update = db_.prepare(
        "UPDATE images SET promoted_version_id = ?, previous_promoted_version_id = ? WHERE id = ?");
    update->bind_all(live[1], previous, image_id);
    update->run();
    tx.commit();
    return live[1];
}

std::vector<Promotion> ImagesRepo::promotion_history(std::int64_t image_id) {
    auto query = db_.prepare(
        "SELECT id, image_id, version_id, promoted_at, rolled_back_at FROM promotions WHERE image_id = ? "
        "ORDER BY id");
    query->bind_all(image_id);
    std::vector<Promotion> history;
    while (query->step()) {
        history.push_back(Promotion{query->int64(0), query->int64(1), query->int64(2), query->int64(3),
                                    query->opt_int64(4)});
    }
    return history;
}

}  // namespace bootherd::db
