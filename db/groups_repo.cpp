#include "db/groups_repo.hpp"

#include "db/error.hpp"
#include "db/identifiers.hpp"

namespace bootherd::db {
namespace {

constexpr std::string_view group_columns =
    "SELECT id, name, image_id, persistent, description, bind_address FROM groups ";

Group read_group(const Statement& row) {
    return Group{row.int64(0), row.text(1), row.opt_int64(2), row.boolean(3), row.text(4), row.boolean(5)};
}

}  // namespace

void GroupsRepo::validate(const Group& group, std::optional<std::int64_t> self) {
    require_valid_name("name", group.name);
    if (auto existing = find_by_name(group.name); existing && existing->id != self) {
        throw Conflict("name", "a group named '" + group.name + "' already exists");
    }
    if (group.image_id) {
        auto image = db_.prepare("SELECT 1 FROM images WHERE id = ?");
        image->bind_all(*group.image_id);
        if (!image->step())
            throw InvalidArgument("image", "image " + std::to_string(*group.image_id) + " does not exist");
    }
}

Group GroupsRepo::create(const Group& group) {
    Transaction tx(db_);
    validate(group, std::nullopt);
    auto insert = db_.prepare(
        "INSERT INTO groups (name, image_id, persistent, description, bind_address) VALUES (?, ?, ?, ?, ?) "
        "RETURNING id");
    insert->bind_all(group.name, group.image_id, group.persistent, group.description, group.bind_address);
    const std::int64_t id = insert->insert_returning_id();
    tx.commit();
    return get(id);
}

std::optional<Group> GroupsRepo::find(std::int64_t id) {
    auto query = db_.prepare(std::string(group_columns) + "WHERE id = ?");
    query->bind_all(id);
    if (!query->step()) return std::nullopt;
    return read_group(*query);
}

std::optional<Group> GroupsRepo::find_by_name(std::string_view name) {
    auto query = db_.prepare(std::string(group_columns) + "WHERE name = ?");
    query->bind_all(name);
    if (!query->step()) return std::nullopt;
    return read_group(*query);
}

Group GroupsRepo::get(std::int64_t id) {
    auto group = find(id);
    if (!group) throw NotFound("group " + std::to_string(id) + " does not exist");
    return *group;
}

std::vector<Group> GroupsRepo::list() {
    auto query = db_.prepare(std::string(group_columns) + "ORDER BY name");
    std::vector<Group> groups;
    while (query->step())
        groups.push_back(read_group(*query));
    return groups;
}

Group GroupsRepo::update(const Group& group) {
    Transaction tx(db_);
    get(group.id);
    validate(group, group.id);
    auto update = db_.prepare(
        "UPDATE groups SET name = ?, image_id = ?, persistent = ?, description = ?, bind_address = ? "
        "WHERE id = ?");
    update->bind_all(group.name, group.image_id, group.persistent, group.description, group.bind_address,
                     group.id);
    update->run();
    tx.commit();
    return get(group.id);
}

void GroupsRepo::remove(std::int64_t id) {
    auto erase = db_.prepare("DELETE FROM groups WHERE id = ?");
    erase->bind_all(id);
    erase->run();
    if (db_.changes() == 0) throw NotFound("group " + std::to_string(id) + " does not exist");
}

}  // namespace bootherd::db
