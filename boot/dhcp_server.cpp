#include "boot/dhcp_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <stdexcept>
#include <vector>

#include "boot/malformed_packet.hpp"
#include "boot/udp_socket_options.hpp"
#include "common/bind_error.hpp"
#include "common/log.hpp"

namespace bootherd::boot {

namespace asio = boost::asio;
using asio::ip::udp;

// g++ 12 destroys temporaries that live across a co_await twice: buffers handed to awaited operations below
// are named locals.

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

udp::socket open_socket(const asio::any_io_executor& executor, const std::string& interface,
                        std::uint16_t port, bool share_port) {
    udp::socket socket(executor);
    socket.open(udp::v4());
    socket.set_option(asio::socket_base::reuse_address(true));
    if (share_port) set_reuse_port(socket);
    socket.set_option(asio::socket_base::broadcast(true));
    bind_to_device(socket, interface);
    // The any address: broadcasts from clients without an address arrive only there.
    bind_or_explain(socket, udp::endpoint(udp::v4(), port), "DHCP");
    return socket;
}

}  // namespace

DhcpServer::DhcpServer(asio::any_io_executor executor, DhcpServerConfig config, DhcpEngine& engine,
                       BootCounters* counters)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      engine_(engine),
      counters_(counters),
      server_socket_(executor_) {}

void DhcpServer::start() {
    if (config_.interface.empty())
        throw std::invalid_argument("the DHCP service needs an interface to bind to");
    server_socket_ =
        open_socket(executor_, config_.interface, config_.server_port, config_.share_server_port);
    if (config_.listen_pxe_port)
        pxe_socket_.emplace(open_socket(executor_, config_.interface, config_.pxe_port, false));
    asio::co_spawn(executor_, serve(server_socket_, DhcpPort::server), asio::detached);
    if (pxe_socket_) asio::co_spawn(executor_, serve(*pxe_socket_, DhcpPort::pxe_server), asio::detached);
    log::info("dhcp: serving on ", config_.interface, " port ", server_port(),
              pxe_socket_ ? " and PXE port " + std::to_string(pxe_socket_->local_endpoint().port()) : "");
}

void DhcpServer::stop() {
    boost::system::error_code ignored;
    server_socket_.close(ignored);
    if (pxe_socket_) pxe_socket_->close(ignored);
}

std::uint16_t DhcpServer::server_port() const {
    return server_socket_.local_endpoint().port();
}

std::optional<std::uint16_t> DhcpServer::pxe_port() const {
    if (!pxe_socket_) return std::nullopt;
    return pxe_socket_->local_endpoint().port();
}

asio::awaitable<void> DhcpServer::serve(udp::socket& socket, DhcpPort port) {
    std::vector<std::uint8_t> buffer(65536);
    for (;;) {
        udp::endpoint source;
        const auto [ec, size] = co_await socket.async_receive_from(asio::buffer(buffer), source, nothrow);
        if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) co_return;
        if (ec) continue;
        std::optional<DhcpReply> reply;
        try {
            const DhcpPacket request = parse_dhcp_packet(std::span<const std::uint8_t>(buffer.data(), size));
            if (counters_) counters_->dhcp_requests.fetch_add(1, std::memory_order_relaxed);
            reply = engine_.handle(request, {port, source.address().to_v4()}, DhcpEngine::Clock::now());
        } catch (const MalformedPacket& e) {
            if (counters_) counters_->dhcp_dropped.fetch_add(1, std::memory_order_relaxed);
            drop_log_.warn(
                "dhcp: dropped malformed packet from " + source.address().to_string() + ": " + e.what(),
                RateLimitedLog::Clock::now());
            continue;
        } catch (const std::exception& e) {
            // A failing LeaseStore or NodeDirectory must not take the service down.
            log::error("dhcp: request from ", source.address().to_string(), " failed: ", e.what());
            continue;
        }
        if (!reply) {
            if (counters_) counters_->dhcp_dropped.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        const auto bytes = serialize_dhcp_packet(reply->packet);
        const auto destination = reply_endpoint(reply->destination, source);
        const auto [send_error, sent] =
            co_await socket.async_send_to(asio::buffer(bytes), destination, nothrow);
        if (send_error)
            log::warn("dhcp: sending reply to ", destination.address().to_string(),
                      " failed: ", send_error.message());
        else if (counters_)
            counters_->dhcp_replies.fetch_add(1, std::memory_order_relaxed);
    }
}

udp::endpoint DhcpServer::reply_endpoint(const DhcpDestination& destination,
                                         const udp::endpoint& source) const {
    switch (destination.kind) {
        case DhcpDestination::Kind::broadcast:
            return {asio::ip::address_v4::broadcast(), config_.client_port};
        case DhcpDestination::Kind::client_address:
            return {destination.address, config_.client_port};
        case DhcpDestination::Kind::relay_agent:
            return {destination.address, config_.server_port};
        case DhcpDestination::Kind::request_source:
            return source;
    }
    return source;
}

}  // namespace bootherd::boot
