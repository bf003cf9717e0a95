#include <algorithm>

#include "target/iscsi/server_context.hpp"

namespace bootherd::iscsi {

void StatsCounters::command_completed(std::chrono::steady_clock::duration latency) {
    const auto us =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(latency).count());
    const auto& bounds = ServerStats::kLatencyBoundsUs;
    const auto bucket =
        static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), us) - bounds.begin());
    latency_buckets[bucket].fetch_add(1, std::memory_order_relaxed);
    latency_sum_us.fetch_add(us, std::memory_order_relaxed);
    commands.fetch_add(1, std::memory_order_relaxed);
}

ServerStats StatsCounters::snapshot() const {
    ServerStats s;
    s.sessions = sessions.load(std::memory_order_relaxed);
    s.logins = logins.load(std::memory_order_relaxed);
    s.login_failures = login_failures.load(std::memory_order_relaxed);
    s.redirects = redirects.load(std::memory_order_relaxed);
    s.bytes_read = bytes_read.load(std::memory_order_relaxed);
    s.bytes_written = bytes_written.load(std::memory_order_relaxed);
    s.commands = commands.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < s.latency_buckets.size(); ++i)
        s.latency_buckets[i] = latency_buckets[i].load(std::memory_order_relaxed);
    s.latency_sum_us = latency_sum_us.load(std::memory_order_relaxed);
    return s;
}

}  // namespace bootherd::iscsi
