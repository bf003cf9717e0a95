#pragma once
// An image as GET /api/v1/images lists it (and `bootherd image list --json` prints it): name, description,
// created, promoted_version, versions, draft, size_bytes (of the promoted version), file_bytes (all files).
#include <boost/json/object.hpp>

#include "db/catalog.hpp"

namespace bootherd::web {

boost::json::object image_summary(db::Catalog::Session& session, const db::Image& image);

}  // namespace bootherd::web
