#pragma once
// Names in request bodies and paths resolved to catalog rows; unknown names are ApiErrors naming the field
// (400 in a body, 404 in a path).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "db/catalog.hpp"

namespace bootherd::web {

// nullopt stays nullopt (clear the reference); an unknown name is a 400 on `field`.
std::optional<std::int64_t> image_id_for(db::Catalog::Session& session,
                                         const std::optional<std::string>& name,
                                         std::string_view field = "image");
std::optional<std::int64_t> group_id_for(db::Catalog::Session& session,
                                         const std::optional<std::string>& name,
                                         std::string_view field = "group");

db::Node node_named(db::Catalog::Session& session, std::string_view name);    // 404
db::Group group_named(db::Catalog::Session& session, std::string_view name);  // 404
db::Image image_named(db::Catalog::Session& session, std::string_view name);  // 404

}  // namespace bootherd::web
