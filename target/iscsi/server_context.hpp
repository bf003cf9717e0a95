#pragma once
// State the server shares with its connections (internal to the transport).
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <cstdint>
#include <memory>

#include "target/iscsi/server.hpp"
#include "target/iscsi/session_registry.hpp"

namespace bootherd::iscsi {

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
    boost::asio::thread_pool disk_pool;
    SessionRegistry registry;
    std::atomic<std::uint16_t> next_tsih{1};
    std::atomic<std::uint64_t> next_nexus_id{1};
};

}  // namespace bootherd::iscsi
