#include "tools/bootherd/retention_service.hpp"

#include <chrono>

#include "common/log.hpp"
#include "db/clock.hpp"

namespace bootherd::cli {
namespace {

constexpr auto first_prune = std::chrono::minutes(1);
constexpr auto prune_interval = std::chrono::hours(1);
constexpr std::int64_t day_ms = 24LL * 3600 * 1000;

}  // namespace

void add_retention_options(CLI::App& command, RetentionOptions& options) {
    command
        .add_option("--keep-events-days", options.events_days,
                    "Days boot and server events are kept (0: for ever)")
        ->capture_default_str();
    command
        .add_option("--keep-boots-days", options.boots_days, "Days ended boot records are kept (0: for ever)")
        ->capture_default_str();
    command.add_option("--keep-audit-days", options.audit_days, "Days the audit log is kept (0: for ever)")
        ->capture_default_str();
}

db::RetentionPolicy retention_policy(const RetentionOptions& options) {
    return {.events_ms = options.events_days * day_ms,
            .boots_ms = options.boots_days * day_ms,
            .audit_ms = options.audit_days * day_ms};
}

RetentionService::RetentionService(db::Catalog& catalog, db::RetentionPolicy policy)
    : catalog_(catalog), policy_(policy), thread_([this] { run(); }) {}

RetentionService::~RetentionService() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

void RetentionService::run() {
    auto next = std::chrono::steady_clock::now() + first_prune;
    std::unique_lock lock(mutex_);
    while (!wake_.wait_until(lock, next, [this] { return stopping_; })) {
        lock.unlock();
        try {
            const auto pruned = db::prune_history(catalog_, policy_, db::now_ms());
            if (pruned.events + pruned.boots + pruned.audit > 0)
                log::info("retention: deleted ", pruned.events, " event(s), ", pruned.boots,
                          " boot record(s), ", pruned.audit, " audit entr", pruned.audit == 1 ? "y" : "ies",
                          " past their age");
        } catch (const std::exception& e) {
            log::warn("retention: pruning the history failed: ", e.what());
        }
        lock.lock();
        next = std::chrono::steady_clock::now() + prune_interval;
    }
}

}  // namespace bootherd::cli
