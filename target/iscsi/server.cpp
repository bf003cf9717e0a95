#include "target/iscsi/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <system_error>
#include <thread>
#include <utility>

#include "common/bind_error.hpp"
#include "common/log.hpp"
#include "target/iscsi/connection.hpp"
#include "target/iscsi/server_context.hpp"

namespace bootherd::iscsi {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kStopGrace{10};  // in-flight commands get this long before connections are cut
constexpr std::chrono::milliseconds kAcceptBackoff{50};
constexpr std::chrono::seconds kRefusalLogInterval{10};

// At most one line per interval for a condition a flood repeats thousands of times a second.
class RateLimitedLog {
  public:
    explicit RateLimitedLog(std::chrono::steady_clock::duration interval) : interval_(interval) {}
    // The number of occurrences not logged since the last line, when a line is due now.
    std::optional<std::uint64_t> due() {
        const auto now = std::chrono::steady_clock::now();
        if (logged_once_ && now - last_ < interval_) {
            ++suppressed_;
            return std::nullopt;
        }
        logged_once_ = true;
        last_ = now;
        return std::exchange(suppressed_, 0);
    }

  private:
    std::chrono::steady_clock::duration interval_;
    std::chrono::steady_clock::time_point last_{};
    bool logged_once_ = false;
    std::uint64_t suppressed_ = 0;
};

unsigned cores() {
    return std::max(1u, std::thread::hardware_concurrency());
}
unsigned disk_threads(const ServerOptions& o) {
    return o.disk_threads != 0 ? o.disk_threads : std::max(8u, 4 * cores());
}

}  // namespace

// One io_context per network thread, each connection pinned to one of them: a connection's handlers, and the
// completions the disk pool posts back to it, always run on the same thread. With one shared io_context,
// every post may wake a different idle thread, and a single busy session then pays cross-thread wake-ups on
// every command (measured here: about 30% more IOPS for one session's 4 KiB writes with the pinning).
struct EventLoop {
    asio::io_context io{1};
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    std::thread thread;
};

struct Server::Impl {
    Impl(ServerOptions options, std::shared_ptr<TargetDirectory> targets)
        : context(options, std::move(targets), disk_threads(options)) {}

    asio::awaitable<void> accept_loop(tcp::acceptor& acceptor);
    asio::io_context& next_loop();

    // loops[0] also runs the accept loops. Declared before the context, which must not outlive them.
    std::vector<std::unique_ptr<EventLoop>> loops;
    ServerContext context;
    std::size_t next_loop_index = 0;  // used by the accept loops only, all on loops[0]
    std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
    std::vector<tcp::endpoint> endpoints;
    mutable std::mutex mutex;
    std::condition_variable stopped_changed;
    bool started = false;
    bool stopping = false;
    bool stopped = false;
    bool flushed = true;  // every device's final flush succeeded
};

asio::io_context& Server::Impl::next_loop() {
    asio::io_context& io = loops[next_loop_index]->io;
    next_loop_index = (next_loop_index + 1) % loops.size();
    return io;
}

asio::awaitable<void> Server::Impl::accept_loop(tcp::acceptor& acceptor) {
    asio::steady_timer backoff(loops[0]->io);
    RateLimitedLog refusals(kRefusalLogInterval);
    while (acceptor.is_open()) {
        auto strand = asio::make_strand(next_loop());
        auto [ec, socket] = co_await acceptor.async_accept(strand, kNoThrow);
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) break;
        if (ec) {
            // Out of descriptors (EMFILE/ENFILE) or memory: the pending connection stays queued and the
            // acceptor stays readable, so retrying at once would spin. Free a descriptor held by a
            // connection that has not logged in (the login timeout would reap it anyway), and back off.
            const auto evicted = context.registry.evict_oldest_in_login();
            if (evicted) evicted->close("descriptors exhausted: making room for new connections");
            if (const auto suppressed = refusals.due())
                log::warn(
                    "iSCSI accept failed: ", ec.message(), evicted ? " (closed a connection in login)" : "",
                    *suppressed > 0 ? " (" + std::to_string(*suppressed) + " more since last logged)" : "");
            backoff.expires_after(kAcceptBackoff);
            co_await backoff.async_wait(kNoThrow);
            continue;
        }
        auto connection = std::make_shared<Connection>(std::move(socket), strand, context);
        const auto admission = context.registry.add(connection, context.options.max_connections,
                                                    context.options.max_connections_per_address);
        if (admission.evicted) admission.evicted->close("connection limit: replaced by a newer connection");
        if (!admission.admitted) {
            if (const auto suppressed = refusals.due())
                log::warn(
                    "iSCSI connection from ", connection->peer_address().to_string(),
                    " refused: max_connections (", context.options.max_connections,
                    ") or max_connections_per_address (", context.options.max_connections_per_address,
                    ") reached and none is still logging in",
                    *suppressed > 0 ? " (" + std::to_string(*suppressed) + " more since last logged)" : "");
            connection->close("connection limit");
            continue;
        }
        connection->start();
    }
}

Server::Server(ServerOptions options, std::shared_ptr<TargetDirectory> targets)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(targets))) {}

Server::~Server() {
    stop();
}

void Server::start() {
    const std::lock_guard lock(impl_->mutex);
    if (impl_->started) return;
    const unsigned n =
        impl_->context.options.network_threads != 0 ? impl_->context.options.network_threads : cores();
    while (impl_->loops.size() < n)  // kept from an earlier start() that failed to bind
        impl_->loops.push_back(std::make_unique<EventLoop>());
    for (const tcp::endpoint& endpoint : impl_->context.options.listen) {
        auto acceptor = std::make_unique<tcp::acceptor>(impl_->loops[0]->io);
        acceptor->open(endpoint.protocol());
        acceptor->set_option(asio::socket_base::reuse_address(true));
        if (endpoint.address().is_v6()) acceptor->set_option(asio::ip::v6_only(true));
        bind_or_explain(*acceptor, endpoint, "iSCSI");
        acceptor->listen(asio::socket_base::max_listen_connections);
        impl_->endpoints.push_back(acceptor->local_endpoint());
        impl_->acceptors.push_back(std::move(acceptor));
    }
    impl_->context.portals = impl_->endpoints;
    for (auto& acceptor : impl_->acceptors) {
        asio::co_spawn(impl_->loops[0]->io, impl_->accept_loop(*acceptor), asio::detached);
        log::info("iSCSI target listening on ", acceptor->local_endpoint());
    }
    for (auto& loop : impl_->loops)
        loop->thread = std::thread([io = &loop->io] { io->run(); });
    impl_->started = true;
}

std::vector<tcp::endpoint> Server::local_endpoints() const {
    const std::lock_guard lock(impl_->mutex);
    return impl_->endpoints;
}

bool Server::stop() {
    {
        std::unique_lock lock(impl_->mutex);
        if (!impl_->started) return true;
        if (impl_->stopping) {  // another thread is stopping: wait for it
            impl_->stopped_changed.wait(lock, [&] { return impl_->stopped; });
            return impl_->flushed;
        }
        impl_->stopping = true;
    }
    asio::post(impl_->loops[0]->io, [impl = impl_.get()] {
        for (auto& acceptor : impl->acceptors) {
            boost::system::error_code ignored;
            acceptor->close(ignored);
        }
    });
    for (const auto& connection : impl_->context.registry.all())
        connection->shutdown();
    const auto give_up = std::chrono::steady_clock::now() + kStopGrace;
    while (impl_->context.registry.size() > 0 && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    for (const auto& connection : impl_->context.registry.all())
        connection->close("server stopped");
    for (auto& loop : impl_->loops)
        loop->work.reset();
    for (auto& loop : impl_->loops)
        loop->thread.join();
    impl_->context.disk_pool.join();
    std::set<scsi::TargetDevice*> flushed;
    bool all_flushed = true;
    for (const auto& node : impl_->context.targets->all()) {
        if (node->device && flushed.insert(node->device.get()).second)
            all_flushed = node->device->flush_all() && all_flushed;
    }
    log::info("iSCSI target stopped");
    const std::lock_guard lock(impl_->mutex);
    impl_->stopped = true;
    impl_->flushed = all_flushed;
    impl_->stopped_changed.notify_all();
    return all_flushed;
}

void Server::wait() {
    std::unique_lock lock(impl_->mutex);
    impl_->stopped_changed.wait(lock, [&] { return impl_->stopped || !impl_->started; });
}

std::vector<SessionInfo> Server::sessions() const {
    std::vector<SessionInfo> result;
    for (const auto& connection : impl_->context.registry.all()) {
        if (connection->in_full_feature()) result.push_back(connection->info());
    }
    return result;
}

ServerStats Server::stats() const {
    return impl_->context.stats.snapshot();
}

}  // namespace bootherd::iscsi
