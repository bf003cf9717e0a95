#pragma once
// /metrics in the Prometheus text exposition format (version 0.0.4).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "boot/boot_counters.hpp"
#include "boots/outcome_stats.hpp"
#include "target/iscsi/server_stats.hpp"

namespace bootherd::web {

struct NodeCounts {
    std::int64_t total = 0, booted = 0, booting = 0, failed = 0, off = 0;
};

struct MetricsSnapshot {
    std::optional<iscsi::ServerStats> iscsi{};
    std::uint64_t live_sessions = 0;  // from the session list, when the server keeps no stats
    const boot::BootCounters* boot = nullptr;
    NodeCounts nodes{};
    std::int64_t images = 0;
    std::vector<boots::VersionOutcomes> boot_outcomes{};           // ended boots per image version
    std::vector<std::pair<std::string, std::int64_t>> rollouts{};  // rollouts per state ("running", ...)
};

std::string render_metrics(const MetricsSnapshot& snapshot);

}  // namespace bootherd::web
