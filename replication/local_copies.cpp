#include "replication/local_copies.hpp"

#include <vector>

#include "common/log.hpp"
#include "common/sha256_file.hpp"

namespace bootherd::replication {
namespace {

std::vector<db::Version> sealed_versions(db::Catalog& catalog) {
    auto session = catalog.session();
    std::vector<db::Version> sealed;
    for (const auto& image : session.images().list())
        for (auto& version : session.versions().list(image.id))
            if (version.state == db::VersionState::sealed) sealed.push_back(std::move(version));
    return sealed;
}

}  // namespace

std::size_t LocalCopies::verify(std::int64_t server_id, std::int64_t now_ms) {
    std::size_t recorded = 0;
    for (const auto& version : sealed_versions(catalog_)) {
        if (checked_.contains(version.id)) continue;
        const auto file = data_dir_ / version.file_path;
        std::error_code error;
        if (!std::filesystem::is_regular_file(file, error)) {
            // Not here (yet): a pull may bring it. A record saying otherwise is stale.
            auto session = catalog_.session();
            if (session.servers().holds(server_id, version.id))
                session.servers().forget_copy(server_id, version.id);
            continue;
        }
        const std::string sha256 = sha256_file(file);
        auto session = catalog_.session();
        if (version.sha256 && *version.sha256 != sha256) {
            // Set aside, not deleted (the evidence stays for the administrator), so that a pull can bring a
            // verified copy to its place.
            auto aside = file;
            aside += ".corrupt";
            std::filesystem::rename(file, aside, error);
            log::error("version ", version.file_path, " here does not match its SHA-256 (", *version.sha256,
                       ", the file has ", sha256, "): not served from this server, moved to ", aside.string(),
                       error ? " (failed: " + error.message() + ")" : std::string());
            session.servers().forget_copy(server_id, version.id);
        } else {
            if (!version.sha256) session.versions().set_sha256(version.id, sha256);
            session.servers().record_verified_copy(server_id, version.id, now_ms);
            ++recorded;
        }
        checked_.insert(version.id);
        break;  // one file per call: hashing a store of large images must not hold up the heartbeats
    }
    return recorded;
}

}  // namespace bootherd::replication
