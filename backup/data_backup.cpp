#include "backup/data_backup.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "backup/file_copy.hpp"
#include "backup/manifest.hpp"
#include "common/log.hpp"
#include "common/sha256_file.hpp"
#include "db/catalog_backup.hpp"
#include "db/clock.hpp"
#include "db/migrations.hpp"

namespace bootherd::backup {
namespace fs = std::filesystem;
namespace {

constexpr const char* catalog_file = "catalog.db";
constexpr const char* manifest_file = "SHA256SUMS";
constexpr const char* info_file = "BACKUP";
constexpr std::uintmax_t max_manifest_bytes = 256u << 20;

struct File {
    std::string path;
    bool immutable = false;
    bool node_disk = false;
};

void make_private_directory(const fs::path& directory) {
    fs::create_directories(directory);
    fs::permissions(directory, fs::perms::owner_all);
}

// What the backed-up catalog names: read from the copy, so files and rows match.
std::vector<File> named_files(const fs::path& catalog_copy, bool node_disks) {
    auto db = db::Database::open(catalog_copy.string());
    std::vector<File> files;
    auto versions = db.prepare_uncached("SELECT file_path, state FROM versions ORDER BY id");
    while (versions.step())
        files.push_back({versions.text(0), versions.text(1) == "sealed", false});
    if (node_disks) {
        auto disks =
            db.prepare_uncached("SELECT disk_path FROM nodes WHERE disk_path IS NOT NULL ORDER BY id");
        while (disks.step())
            files.push_back({disks.text(0), false, true});
    }
    return files;
}

void write_private_file(const fs::path& file, const std::string& text) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "create " + file.string());
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t wrote = ::write(fd, text.data() + done, text.size() - done);
        if (wrote < 0) {
            if (errno == EINTR) continue;
            const int error = errno;
            ::close(fd);
            throw std::system_error(error, std::generic_category(), "write " + file.string());
        }
        done += static_cast<std::size_t>(wrote);
    }
    const bool synced = ::fsync(fd) == 0;
    ::close(fd);
    if (!synced) throw std::system_error(errno, std::generic_category(), "sync " + file.string());
}

std::string read_small_file(const fs::path& file) {
    if (!fs::is_regular_file(file))
        throw std::runtime_error(file.string() + " is missing: not a bootherd backup");
    if (fs::file_size(file) > max_manifest_bytes) throw std::runtime_error(file.string() + " is too large");
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

bool is_empty_directory(const fs::path& directory) {
    return fs::is_directory(directory) && fs::directory_iterator(directory) == fs::directory_iterator();
}

void sync_directory(const fs::path& directory) {
    const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

}  // namespace

BackupReport backup_data_dir(db::Catalog& catalog, const fs::path& data_dir, const fs::path& destination,
                             const BackupOptions& options) {
    if (fs::exists(destination))
        throw std::runtime_error(destination.string() + " exists: give a new directory");
    make_private_directory(destination);
    BackupReport report;
    try {
        {
            auto session = catalog.session();
            db::backup_database(session.database(), destination / catalog_file);
        }
        std::vector<ManifestEntry> manifest{{sha256_file(destination / catalog_file), catalog_file}};
        for (const auto& file : named_files(destination / catalog_file, options.node_disks)) {
            if (!is_plain_relative_path(file.path))
                throw std::runtime_error("the catalog names a file outside the data directory: " + file.path);
            const fs::path from = data_dir / file.path, to = destination / file.path;
            if (file.node_disk && !fs::exists(from)) {  // replaced by a boot meanwhile
                report.skipped.push_back(file.path);
                continue;
            }
            make_private_directory(to.parent_path());
            switch (copy_file(from, to, file.immutable)) {
                case CopyMethod::hard_link:
                    ++report.hard_linked;
                    break;
                case CopyMethod::reflink:
                    ++report.reflinked;
                    break;
                case CopyMethod::copy:
                    ++report.copied;
                    break;
            }
            ++report.files;
            report.bytes += fs::file_size(to);
            manifest.push_back({sha256_file(to), file.path});
        }
        write_private_file(destination / manifest_file, format_manifest(manifest));
        write_private_file(destination / info_file,
                           "bootherd backup, format 1\ncreated_at_ms=" + std::to_string(db::now_ms()) +
                               "\nschema_version=" + std::to_string(db::latest_schema_version()) +
                               "\nnode_disks=" + (options.node_disks ? "yes" : "no") +
                               "\nfiles=" + std::to_string(report.files) + "\n");
        sync_directory(destination);
    } catch (...) {
        std::error_code ignored;
        fs::remove_all(destination, ignored);
        throw;
    }
    return report;
}

RestoreReport restore_data_dir(const fs::path& backup, const fs::path& data_dir) {
    const auto manifest = parse_manifest(read_small_file(backup / manifest_file));
    bool has_catalog = false;
    for (const auto& entry : manifest) {
        has_catalog |= entry.path == catalog_file;
        const fs::path file = backup / entry.path;
        if (!fs::is_regular_file(file)) throw std::runtime_error("the backup lacks " + entry.path);
        if (sha256_file(file) != entry.sha256)
            throw std::runtime_error("the backup's " + entry.path +
                                     " does not match its checksum: it is damaged");
    }
    if (!has_catalog) throw std::runtime_error("the backup's SHA256SUMS does not list catalog.db");
    if (fs::exists(data_dir) && !is_empty_directory(data_dir))
        throw std::runtime_error(data_dir.string() + " is not empty: restore into a new or empty directory");
    make_private_directory(data_dir);
    RestoreReport report;
    try {
        for (const auto& entry : manifest) {
            const fs::path to = data_dir / entry.path;
            make_private_directory(to.parent_path());
            copy_file(backup / entry.path, to, false);
            if (entry.path != catalog_file) ++report.files;
        }
        // Nodes whose disk is not in the backup get a fresh one at their next boot.
        auto db = db::Database::open((data_dir / catalog_file).string());
        std::vector<std::pair<std::int64_t, std::string>> lost;
        auto disks = db.prepare_uncached("SELECT id, name, disk_path FROM nodes WHERE disk_path IS NOT NULL");
        while (disks.step())
            if (!is_plain_relative_path(disks.text(2)) || !fs::exists(data_dir / disks.text(2)))
                lost.emplace_back(disks.int64(0), disks.text(1));
        for (const auto& [id, name] : lost) {
            auto clear =
                db.prepare_uncached("UPDATE nodes SET disk_path = NULL, disk_version_id = NULL WHERE id = ?");
            clear.bind_all(id);
            clear.run();
            report.nodes_without_disk.push_back(name);
        }
        sync_directory(data_dir);
    } catch (...) {
        std::error_code ignored;
        for (const auto& entry : fs::directory_iterator(data_dir, ignored))
            fs::remove_all(entry.path(), ignored);
        throw;
    }
    return report;
}

}  // namespace bootherd::backup
