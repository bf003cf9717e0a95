#pragma once
// What a pull of a version needs from the catalog: the version and its ancestors, base first.
#include <cstdint>
#include <vector>

#include "db/catalog.hpp"
#include "replication/version_puller.hpp"

namespace bootherd::replication {

// PullError when the version or an ancestor is a draft or has no SHA-256 recorded yet; db::NotFound for an
// unknown id.
std::vector<VersionFile> version_chain(db::Catalog::Session& session, std::int64_t version_id);

}  // namespace bootherd::replication
