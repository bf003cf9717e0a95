#include "db/retention.hpp"

namespace bootherd::db {
namespace {

template <typename Prune>
std::int64_t in_batches(Catalog& catalog, std::int64_t batch, Prune prune) {
    std::int64_t total = 0;
    while (true) {
        const std::int64_t deleted = [&] {
            auto session = catalog.session();
            return prune(session);
        }();
        total += deleted;
        if (deleted < batch) return total;
    }
}

}  // namespace

PruneReport prune_history(Catalog& catalog, const RetentionPolicy& policy, std::int64_t now_ms,
                          std::int64_t batch) {
    PruneReport report;
    if (policy.events_ms > 0)
        report.events = in_batches(catalog, batch, [&](Catalog::Session& s) {
            return s.events().prune_older_than(now_ms - policy.events_ms, batch);
        });
    if (policy.boots_ms > 0)
        report.boots = in_batches(catalog, batch, [&](Catalog::Session& s) {
            return s.boots().prune_ended_before(now_ms - policy.boots_ms, batch);
        });
    if (policy.audit_ms > 0)
        report.audit = in_batches(catalog, batch, [&](Catalog::Session& s) {
            return s.audit().prune_older_than(now_ms - policy.audit_ms, batch);
        });
    return report;
}

}  // namespace bootherd::db
