#include "web/api/image_summary.hpp"

namespace bootherd::web {

boost::json::object image_summary(db::Catalog::Session& session, const db::Image& image) {
    const auto versions = session.versions().list(image.id);
    std::optional<std::int64_t> promoted;
    std::int64_t size = 0, file_bytes = 0;
    bool draft = false;
    for (const auto& version : versions) {
        file_bytes += version.file_bytes;
        if (version.state == db::VersionState::draft) draft = true;
        if (version.promoted) {
            promoted = version.number;
            size = version.size_bytes;
        }
    }
    return boost::json::object{{"name", image.name},
                               {"description", image.description},
                               {"created", image.created_at},
                               {"promoted_version", promoted ? boost::json::value(*promoted) : nullptr},
                               {"versions", versions.size()},
                               {"draft", draft},
                               {"size_bytes", size},
                               {"file_bytes", file_bytes}};
}

}  // namespace bootherd::web
