#pragma once
// Keeping the catalog's history bounded: events and ended boot records older than their age limit are
// deleted, the audit log after its own (longer) one. Deletion goes in small batches, each in a session of its
// own, so a boot or a web request waits for one batch at most, never for the whole prune.
#include <cstdint>

#include "db/catalog.hpp"

namespace bootherd::db {

struct RetentionPolicy {
    std::int64_t events_ms = 30LL * 24 * 3600 * 1000;  // 0: keep for ever
    std::int64_t boots_ms = 90LL * 24 * 3600 * 1000;
    std::int64_t audit_ms = 365LL * 24 * 3600 * 1000;
};

struct PruneReport {
    std::int64_t events = 0, boots = 0, audit = 0;
};

PruneReport prune_history(Catalog& catalog, const RetentionPolicy& policy, std::int64_t now_ms,
                          std::int64_t batch = 2000);

}  // namespace bootherd::db
