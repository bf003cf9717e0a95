#include "replication/version_chain.hpp"

#include <algorithm>

namespace bootherd::replication {

std::vector<VersionFile> version_chain(db::Catalog::Session& session, std::int64_t version_id) {
    std::vector<VersionFile> chain;
    std::optional<std::int64_t> next = version_id;
    while (next) {
        const auto version = session.versions().get(*next);
        const auto image = session.images().get(version.image_id);
        const std::string what =
            "version " + std::to_string(version.number) + " of image '" + image.name + "'";
        if (version.state != db::VersionState::sealed)
            throw PullError(what + " is a draft: only sealed versions are pulled");
        if (!version.sha256) throw PullError(what + " has no SHA-256 recorded yet");
        chain.push_back(VersionFile{.version_id = version.id,
                                    .image = image.name,
                                    .number = version.number,
                                    .sha256 = *version.sha256,
                                    .file_path = version.file_path});
        next = version.parent_version_id;
    }
    std::reverse(chain.begin(), chain.end());
    return chain;
}

}  // namespace bootherd::replication
