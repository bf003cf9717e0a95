// ImageStore's start-up sweep: orphan files removed, catalog rows whose file is missing found (see
// image_store.hpp).
#include "imagestore/store/image_store.hpp"

#include <set>

#include "imagestore/store/store_lock.hpp"
#include "imagestore/store/store_support.hpp"

namespace bootherd::imagestore::store {
namespace fs = std::filesystem;
using namespace support;

SweepReport ImageStore::sweep_orphans() {
    StoreLock lock(lock_file(), StoreLock::Mode::try_exclusive);
    SweepReport report;
    if (!lock.held()) {
        report.skipped = true;
        return report;
    }
    auto session = catalog_.session();
    remove_orphan_files(session, report);
    check_rows(session, report);
    return report;
}

void ImageStore::remove_orphan_files(db::Catalog::Session& session, SweepReport& report) {
    const auto referenced_list = session.referenced_file_paths();
    const std::set<std::string> referenced(referenced_list.begin(), referenced_list.end());
    for (const char* folder : {"images", "nodes"}) {
        std::vector<fs::path> orphans;
        for (const auto& entry : fs::recursive_directory_iterator(data_dir_ / folder)) {
            if (!entry.is_regular_file()) continue;
            const std::string relative = fs::relative(entry.path(), data_dir_).generic_string();
            // A file open for writing belongs to a running server's session: a later sweep takes it.
            if (!referenced.contains(relative) && !open_for_writing(entry.path()))
                orphans.push_back(entry.path());
        }
        for (const auto& orphan : orphans) {
            fs::remove(orphan);
            report.removed_files.push_back(fs::relative(orphan, data_dir_).generic_string());
        }
    }
    for (const auto& entry : fs::directory_iterator(data_dir_ / "tmp")) {
        report.removed_files.push_back(fs::relative(entry.path(), data_dir_).generic_string());
        fs::remove_all(entry.path());
    }
}

void ImageStore::check_rows(db::Catalog::Session& session, SweepReport& report) {
    // With several servers, versions are pulled as needed (replication/) and a machine's disk lives on its
    // home: what another server holds is not missing here.
    const bool shared = !session.servers().list().empty();
    std::optional<std::int64_t> self;
    if (!server_name_.empty())
        if (const auto server = session.servers().find_by_name(server_name_)) self = server->id;
    if (!shared)
        for (const auto& image : session.images().list())
            for (const auto& version : session.versions().list(image.id))
                if (!fs::exists(absolute(version.file_path)))
                    report.missing_versions.push_back(image.name + " v" + std::to_string(version.number) +
                                                      ": " + version.file_path);
    for (const auto& node : session.nodes().all()) {
        if (shared && node.home_server_id && node.home_server_id != self) continue;
        if (node.disk_path && !fs::exists(absolute(*node.disk_path))) {
            report.missing_node_disks.push_back(node.name + ": " + *node.disk_path);
            session.nodes().set_disk(node.id, std::nullopt, std::nullopt);
        }
    }
}

}  // namespace bootherd::imagestore::store
