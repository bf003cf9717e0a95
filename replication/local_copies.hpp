#pragma once
// The sealed versions whose files this server holds, each hashed and checked against the SHA-256 recorded at
// seal before the catalog lists it as a copy placement may count on (a version sealed before hashes were
// recorded takes its hash from this file). A file that does not match is never counted, an earlier record of
// it is withdrawn and the file is moved aside (`<file>.corrupt`) so that a pull can replace it. Each version
// is checked once per process: sealed files do not change.
#include <cstdint>
#include <filesystem>
#include <set>

#include "db/catalog.hpp"

namespace bootherd::replication {

class LocalCopies {
  public:
    LocalCopies(db::Catalog& catalog, std::filesystem::path data_dir)
        : catalog_(catalog), data_dir_(std::move(data_dir)) {}

    // Checks the next sealed version not checked yet (hashes at most one file, so that the caller's
    // heartbeats stay regular); returns how many copies it recorded (0 or 1). Hashing happens outside any
    // catalog session. Throws what the catalog throws (the next call retries).
    std::size_t verify(std::int64_t server_id, std::int64_t now_ms);

  private:
    db::Catalog& catalog_;
    std::filesystem::path data_dir_;
    std::set<std::int64_t> checked_;
};

}  // namespace bootherd::replication
