#pragma once
// Backing up and restoring a data directory: the catalog (SQLite's online backup, so `serve` may keep
// running) and the image files it names, with a manifest of checksums.
//
//   DEST/catalog.db      the catalog as of one committed state
//   DEST/images/...      every version file the catalog names (sealed ones hard-linked or reflinked when the
//                        file system allows: they never change), drafts copied
//   DEST/nodes/...       node disks, only with `node_disks` (a running machine's disk is copied as it is)
//   DEST/SHA256SUMS      sha256sum(1) format: `cd DEST && sha256sum -c SHA256SUMS` checks it
//   DEST/BACKUP          what made it and when
//
// A restore checks every checksum before it writes anything, into an empty or new data directory. Nodes whose
// disk is not in the backup lose the reference and get a fresh disk at their next boot (so a persistent
// machine's disk survives only in a backup made with node disks).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "db/catalog.hpp"

namespace bootherd::backup {

struct BackupOptions {
    bool node_disks = false;
};

struct BackupReport {
    std::size_t files = 0;  // image files, not counting the catalog
    std::uint64_t bytes = 0;
    std::size_t hard_linked = 0, reflinked = 0, copied = 0;
    std::vector<std::string> skipped{};  // node disks replaced by a new boot while the backup ran
};

struct RestoreReport {
    std::size_t files = 0;
    std::vector<std::string> nodes_without_disk{};
};

// `destination` must not exist. std::runtime_error (db::Error, std::system_error) on failure, after removing
// what it made.
BackupReport backup_data_dir(db::Catalog& catalog, const std::filesystem::path& data_dir,
                             const std::filesystem::path& destination, const BackupOptions& options);

// `data_dir` must not exist or be empty.
RestoreReport restore_data_dir(const std::filesystem::path& backup, const std::filesystem::path& data_dir);

}  // namespace bootherd::backup
