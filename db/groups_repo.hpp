#pragma once
// Node groups: a default image and persistence mode shared by their members.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.hpp"

namespace bootherd::db {

struct Group {
    std::int64_t id = 0;
    std::string name{};
    std::optional<std::int64_t> image_id{};
    bool persistent = false;  // default for members that do not choose
    std::string description{};
    // Members that do not choose get their boot script and iSCSI logins only at their bound address.
    bool bind_address = true;
};

// Not thread-safe by itself: obtain it from a Catalog::Session, which holds the catalog lock.
class GroupsRepo {
  public:
    explicit GroupsRepo(Database& db) : db_(db) {}

    // `group.id` is ignored; returns the stored group.
    Group create(const Group& group);
    std::optional<Group> find(std::int64_t id);
    std::optional<Group> find_by_name(std::string_view name);
    Group get(std::int64_t id);  // NotFound
    std::vector<Group> list();
    // Replaces name, image, persistence, description and address binding of the group with `group.id`.
    Group update(const Group& group);
    // Members stay, without a group.
    void remove(std::int64_t id);

  private:
    void validate(const Group& group, std::optional<std::int64_t> self);
    Database& db_;
};

}  // namespace bootherd::db
