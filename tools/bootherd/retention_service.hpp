#pragma once
// `serve`'s history pruning (db/retention.hpp): a thread of its own that prunes a minute after start and then
// every hour, in small batches, so boots never wait on it. The ages come from --keep-events-days and friends.
#include <CLI/CLI.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "db/catalog.hpp"
#include "db/retention.hpp"

namespace bootherd::cli {

struct RetentionOptions {
    unsigned events_days = 30;  // 0: keep for ever
    unsigned boots_days = 90;
    unsigned audit_days = 365;
};

void add_retention_options(CLI::App& command, RetentionOptions& options);
db::RetentionPolicy retention_policy(const RetentionOptions& options);

class RetentionService {
  public:
    RetentionService(db::Catalog& catalog, db::RetentionPolicy policy);
    ~RetentionService();
    RetentionService(const RetentionService&) = delete;
    RetentionService& operator=(const RetentionService&) = delete;

  private:
    void run();

    db::Catalog& catalog_;
    db::RetentionPolicy policy_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace bootherd::cli
