#pragma once
// State the server shares with its connections (internal to the transport).
#include <boost/asio/thread_pool.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "target/iscsi/server.hpp"
#include "target/iscsi/session_registry.hpp"

namespace bootherd::iscsi {

// The live counters behind ServerStats, updated by connections with relaxed atomics.
struct StatsCounters {
    std::atomic<std::uint64_t> sessions{0}, logins{0}, login_failures{0}, redirects{0};
    std::atomic<std::uint64_t> bytes_read{0}, bytes_written{0}, commands{0};
    std::array<std::atomic<std::uint64_t>, ServerStats::kLatencyBoundsUs.size() + 1> latency_buckets{};
    std::atomic<std::uint64_t> latency_sum_us{0};

    void command_completed(std::chrono::steady_clock::duration latency);
    ServerStats snapshot() const;
};

struct ServerContext {
    ServerContext(ServerOptions opts, std::shared_ptr<TargetDirectory> dir, unsigned disk_threads)
        : options(std::move(opts)), targets(std::move(dir)), disk_pool(disk_threads) {}

    // Never 0: TSIH 0 means "new session" on the wire.
    std::uint16_t allocate_tsih() {
        std::uint16_t t = 0;
        while (t == 0)
            t = next_tsih.fetch_add(1, std::memory_order_relaxed);
        return t;
    }

    ServerOptions options;
    std::shared_ptr<TargetDirectory> targets;
    // The endpoints bound, for refusing redirects to ourselves; set by Server::start() before it accepts.
    std::vector<boost::asio::ip::tcp::endpoint> portals;
    boost::asio::thread_pool disk_pool;
    SessionRegistry registry;
    StatsCounters stats;
    std::atomic<std::uint16_t> next_tsih{1};
    std::atomic<std::uint64_t> next_nexus_id{1};
};

}  // namespace bootherd::iscsi
