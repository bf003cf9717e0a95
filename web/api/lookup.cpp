#include "web/api/lookup.hpp"

#include "web/api_error.hpp"

namespace bootherd::web {

std::optional<std::int64_t> image_id_for(db::Catalog::Session& session,
                                         const std::optional<std::string>& name, std::string_view field) {
    if (!name) return std::nullopt;
    auto image = session.images().find_by_name(*name);
    if (!image)
        throw ApiError(http::status::bad_request, "no image named '" + *name + "'", std::string(field));
    return image->id;
}

std::optional<std::int64_t> group_id_for(db::Catalog::Session& session,
                                         const std::optional<std::string>& name, std::string_view field) {
    if (!name) return std::nullopt;
    auto group = session.groups().find_by_name(*name);
    if (!group)
        throw ApiError(http::status::bad_request, "no group named '" + *name + "'", std::string(field));
    return group->id;
}

db::Node node_named(db::Catalog::Session& session, std::string_view name) {
    auto node = session.nodes().find_by_name(name);
    if (!node) throw ApiError(http::status::not_found, "no node named '" + std::string(name) + "'");
    return *node;
}

db::Group group_named(db::Catalog::Session& session, std::string_view name) {
    auto group = session.groups().find_by_name(name);
    if (!group) throw ApiError(http::status::not_found, "no group named '" + std::string(name) + "'");
    return *group;
}

db::Image image_named(db::Catalog::Session& session, std::string_view name) {
    auto image = session.images().find_by_name(name);
    if (!image) throw ApiError(http::status::not_found, "no image named '" + std::string(name) + "'");
    return *image;
}

}  // namespace bootherd::web
