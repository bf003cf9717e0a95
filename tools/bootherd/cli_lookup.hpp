#pragma once
// Names on the command line resolved to catalog rows; an unknown name is db::NotFound naming it.
#include <cstdint>
#include <string>

#include "db/catalog.hpp"
#include "db/error.hpp"

namespace bootherd::cli {

inline std::int64_t image_id(db::Catalog::Session& session, const std::string& name) {
    auto image = session.images().find_by_name(name);
    if (!image) throw db::NotFound("image '" + name + "' does not exist");
    return image->id;
}

inline std::int64_t group_id(db::Catalog::Session& session, const std::string& name) {
    auto group = session.groups().find_by_name(name);
    if (!group) throw db::NotFound("group '" + name + "' does not exist");
    return group->id;
}

inline db::Group require_group(db::Catalog::Session& session, const std::string& name) {
    auto group = session.groups().find_by_name(name);
    if (!group) throw db::NotFound("group '" + name + "' does not exist");
    return *group;
}

}  // namespace bootherd::cli
