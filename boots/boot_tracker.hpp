#pragma once
// Keeps each enrolled node's boots in the catalog (db::BootsRepo) by the rules of boot_outcome.hpp: the boot
// event writer feeds it steps, the web service health reports, and a periodic tick ends boots whose timeout
// passed. Running boots live in the catalog, so after a restart the tick finds them again. Only steps of
// enrolled nodes (by id) make rows, each node keeps a bounded number, and the steps waiting for a script are
// kept per enrolled node only. An ended boot is counted in `stats()` and written as a "boot.ok" or
// "boot.failed" event; an accepted health report as a "boot.health" event.
//
// Thread-safe (its own mutex, then the catalog's): callers are the event writer thread, web workers and the
// tick. Never call it while holding a catalog session, or two threads could wait for each other's lock.
// Times are the catalog's UTC milliseconds, passed in by the caller.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "boots/boot_outcome.hpp"
#include "boots/outcome_stats.hpp"
#include "db/catalog.hpp"

namespace bootherd::boots {

class BootTracker {
  public:
    BootTracker(db::Catalog& catalog, Thresholds thresholds);

    // A boot step of node `node_id` at `at_ms`. A node that does not exist (any more) is ignored.
    void on_step(std::int64_t node_id, Signal signal, std::int64_t at_ms);
    // False (and nothing recorded) when the node has no running boot.
    bool report_health(std::int64_t node_id, Health health, std::string message, std::int64_t at_ms);
    // Ends running boots whose timeout passed by `now_ms`.
    void tick(std::int64_t now_ms);

    const Thresholds& thresholds() const noexcept { return thresholds_; }
    const OutcomeStats& stats() const noexcept { return stats_; }

  private:
    struct Pending {
        std::optional<std::int64_t> dhcp, tftp;
    };
    NodeBoots load(db::Catalog::Session& session, std::int64_t node_id);
    void store(db::Catalog::Session& session, NodeBoots& node, const Transition& transition);
    void ended(db::Catalog::Session& session, std::int64_t boot_id);

    db::Catalog& catalog_;
    Thresholds thresholds_;
    OutcomeStats stats_;
    std::mutex mutex_;
    std::map<std::int64_t, Pending> pending_;  // node id -> PXE steps waiting for a script
};

}  // namespace bootherd::boots
