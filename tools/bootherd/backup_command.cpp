// `bootherd backup DEST` and `bootherd restore SRC`: a data directory's catalog and image files (see
// backup/data_backup.hpp). A backup may run beside `bootherd serve`.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "backup/data_backup.hpp"
#include "db/catalog.hpp"
#include "tools/bootherd/commands.hpp"
#include "tools/bootherd/store_options.hpp"

namespace bootherd::cli {
namespace {

struct BackupOptions {
    std::string data = kDefaultDataDir;
    std::string catalog{};
    std::string path;
    bool node_disks = false;
};

int run_backup(const BackupOptions& o) {
    const std::filesystem::path data(o.data);
    if (db::Database::is_postgres_location(o.catalog))
        throw std::runtime_error(
            "the catalog is on PostgreSQL: back up a PostgreSQL catalog with pg_dump, and the "
            "data directory's files with a file-level copy");
    if (!std::filesystem::is_regular_file(data / "catalog.db"))
        throw std::runtime_error("no bootherd data directory at " + o.data + " (it has no catalog.db)");
    auto catalog = db::Catalog::open(data / "catalog.db");
    const auto report = backup::backup_data_dir(catalog, data, o.path, {.node_disks = o.node_disks});
    std::cout << "backed up " << o.data << " to " << o.path << ": the catalog and " << report.files
              << " file(s), " << human_bytes(static_cast<std::int64_t>(report.bytes)) << " ("
              << report.hard_linked << " hard-linked, " << report.reflinked << " reflinked, " << report.copied
              << " copied)\n";
    for (const auto& skipped : report.skipped)
        std::cout << "skipped " << skipped << ": replaced by a new boot while the backup ran\n";
    if (!o.node_disks) std::cout << "node disks were left out (--node-disks includes them)\n";
    return 0;
}

int run_restore(const BackupOptions& o) {
    if (db::Database::is_postgres_location(o.catalog))
        throw std::runtime_error(
            "the catalog is on PostgreSQL: restore it with pg_restore, not from a bootherd backup");
    const auto report = backup::restore_data_dir(o.path, o.data);
    std::cout << "restored " << o.path << " into " << o.data << ": the catalog and " << report.files
              << " file(s), every checksum verified\n";
    for (const auto& node : report.nodes_without_disk)
        std::cout << "node " << node
                  << ": its disk was not in the backup; it gets a fresh one at its next boot\n";
    return 0;
}

}  // namespace

void add_backup_commands(CLI::App& app, Action& action) {
    auto o = std::make_shared<BackupOptions>();
    auto* backup = app.add_subcommand(
        "backup", "Copy the catalog (consistent, while serve runs) and the image files into a new directory");
    add_data_option(*backup, o->data, o->catalog);
    backup->add_option("DEST", o->path, "New directory for the backup")->required();
    backup->add_flag("--node-disks", o->node_disks,
                     "Include the machines' disks (needed to keep persistent machines' data)");
    backup->callback([o, &action] { action = [o] { return run_backup(*o); }; });

    auto* restore = app.add_subcommand(
        "restore", "Check a backup's checksums, then restore it into an empty or new data directory");
    add_data_option(*restore, o->data, o->catalog, DataDirUse::create);
    restore->add_option("SRC", o->path, "A directory made by `bootherd backup`")->required();
    restore->callback([o, &action] { action = [o] { return run_restore(*o); }; });
}

}  // namespace bootherd::cli
