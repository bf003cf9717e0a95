#include "boot/tftp_server.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "boot/malformed_packet.hpp"
#include "boot/udp_socket_options.hpp"
#include "common/bind_error.hpp"
#include "common/log.hpp"

namespace bootherd::boot {

namespace asio = boost::asio;
using asio::ip::udp;
using namespace asio::experimental::awaitable_operators;

// g++ 12 destroys temporaries that live across a co_await twice: every buffer handed to an
// awaited operation below is a named local.

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_datagram = 65536;

udp::socket open_socket(const asio::any_io_executor& executor, const TftpServerConfig& config,
                        std::uint16_t port) {
    udp::socket socket(executor);
    socket.open(udp::v4());
    if (!config.interface.empty()) bind_to_device(socket, config.interface);
    bind_or_explain(socket, udp::endpoint(config.listen_address, port), "TFTP");
    return socket;
}

std::string endpoint_text(const udp::endpoint& endpoint) {
    return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

}  // namespace

TftpServer::TftpServer(asio::any_io_executor executor, TftpServerConfig config, const TftpFileSource& source,
                       BootEventSink* events, MacResolver resolve_mac, BootCounters* counters)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      source_(source),
      events_(events),
      resolve_mac_(std::move(resolve_mac)),
      counters_(counters),
      socket_(executor_) {}

void TftpServer::start() {
    socket_ = open_socket(executor_, config_, config_.port);
    asio::co_spawn(executor_, accept_requests(), asio::detached);
}

void TftpServer::stop() {
    boost::system::error_code ignored;
    socket_.close(ignored);
}

std::uint16_t TftpServer::local_port() const {
    return socket_.local_endpoint().port();
}

asio::awaitable<void> TftpServer::accept_requests() {
    std::vector<std::uint8_t> buffer(max_datagram);
    for (;;) {
        udp::endpoint client;
        const auto [ec, size] = co_await socket_.async_receive_from(asio::buffer(buffer), client, nothrow);
        if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) co_return;
        if (ec) continue;
        TftpPacket packet;
        try {
            packet = parse_tftp_packet(std::span<const std::uint8_t>(buffer.data(), size));
        } catch (const MalformedPacket& e) {
            malformed_log_.warn(
                "tftp: dropped malformed packet from " + endpoint_text(client) + ": " + e.what(),
                RateLimitedLog::Clock::now());
            continue;
        }
        auto* request = std::get_if<TftpRequest>(&packet);
        if (const auto it = active_requests_.find(client);
            request && it != active_requests_.end() && it->second == *request) {
            log::debug("tftp: ignoring repeated request from ", endpoint_text(client), " for ",
                       request->filename);
            continue;
        }
        const Ipv4 address = client.address().to_v4();
        if (const auto held = transfers_by_address_.find(address);
            request && held != transfers_by_address_.end() &&
            held->second >= config_.max_transfers_per_client) {
            // No answer: an error per request would itself be a reflection of the flood.
            if (counters_) counters_->tftp_errors.fetch_add(1, std::memory_order_relaxed);
            refusal_log_.warn(
                "tftp: " + address.to_string() + " has too many transfers, dropping its requests",
                RateLimitedLog::Clock::now());
            continue;
        }
        std::optional<TftpError> refusal;
        if (!request) {
            refusal = TftpError{TftpErrorCode::unknown_transfer_id, "no transfer on this port"};
        } else if (request->is_write) {
            refusal = TftpError{TftpErrorCode::access_violation, "this server is read-only"};
        } else if (request->mode != "octet" && request->mode != "netascii") {
            refusal = TftpError{TftpErrorCode::illegal_operation, "unsupported mode " + request->mode};
        } else if (active_transfers_ >= config_.max_transfers) {
            refusal = TftpError{TftpErrorCode::not_defined, "server busy, try again"};
        }
        if (refusal) {
            if (counters_) counters_->tftp_errors.fetch_add(1, std::memory_order_relaxed);
            // Per RFC 1350 errors about a request come from the listening port; they are not retransmitted.
            const auto reply = serialize_tftp_packet(*refusal);
            co_await socket_.async_send_to(asio::buffer(reply), client, nothrow);
            continue;
        }
        ++active_transfers_;
        ++transfers_by_address_[address];
        active_requests_[client] = *request;
        asio::co_spawn(executor_, run_transfer(client, std::move(*request)),
                       [this, client, address](const std::exception_ptr& e) {
                           --active_transfers_;
                           if (--transfers_by_address_[address] == 0) transfers_by_address_.erase(address);
                           active_requests_.erase(client);
                           if (!e) return;
                           try {
                               std::rethrow_exception(e);
                           } catch (const std::exception& error) {
                               log::warn("tftp: transfer ended with an error: ", error.what());
                           }
                       });
    }
}

asio::awaitable<void> TftpServer::run_transfer(udp::endpoint client, TftpRequest request) {
    udp::socket socket = open_socket(executor_, config_, 0);
    auto opened = source_.open(request.filename, client.address());
    if (!opened.content) {
        log::info("tftp: ", endpoint_text(client), " asked for ", request.filename, ": ", opened.message);
        if (counters_) counters_->tftp_errors.fetch_add(1, std::memory_order_relaxed);
        const auto reply = serialize_tftp_packet(TftpError{opened.error, opened.message});
        co_await socket.async_send_to(asio::buffer(reply), client, nothrow);
        co_return;
    }
    const TftpSettings settings =
        negotiate_tftp_options(request.options, opened.content->size(), config_.limits);
    TftpTransfer transfer(settings, *opened.content, config_.limits);
    log::debug("tftp: ", endpoint_text(client), " reads ", request.filename, " blksize ", settings.blksize,
               " windowsize ", settings.windowsize);

    asio::steady_timer timer(executor_);
    std::vector<std::uint8_t> buffer(max_datagram);
    auto packets = transfer.start(TftpTransfer::Clock::now());
    for (;;) {
        for (const auto& packet : packets) {
            const auto [ec, sent] = co_await socket.async_send_to(asio::buffer(packet), client, nothrow);
            if (ec) log::debug("tftp: send to ", endpoint_text(client), " failed: ", ec.message());
        }
        if (transfer.status() != TftpTransfer::Status::running) break;

        timer.expires_at(transfer.deadline());
        udp::endpoint from;
        auto result = co_await (socket.async_receive_from(asio::buffer(buffer), from, nothrow) ||
                                timer.async_wait(nothrow));
        if (result.index() == 1) {
            packets = transfer.on_timeout(TftpTransfer::Clock::now());
            continue;
        }
        const auto [ec, size] = std::get<0>(result);
        packets.clear();
        if (ec) continue;
        if (from != client) {
            // Another host or port guessed our transfer ID: tell it off, keep the transfer going (RFC 1350).
            const auto reply =
                serialize_tftp_packet(TftpError{TftpErrorCode::unknown_transfer_id, "unknown TID"});
            co_await socket.async_send_to(asio::buffer(reply), from, nothrow);
            continue;
        }
        try {
            packets =
                transfer.on_packet(parse_tftp_packet(std::span<const std::uint8_t>(buffer.data(), size)),
                                   TftpTransfer::Clock::now());
        } catch (const MalformedPacket& e) {
            malformed_log_.warn(
                "tftp: dropped malformed packet from " + endpoint_text(client) + ": " + e.what(),
                RateLimitedLog::Clock::now());
        }
    }

    switch (transfer.status()) {
        case TftpTransfer::Status::complete:
            log::info("tftp: sent ", request.filename, " (", opened.content->size(), " bytes) to ",
                      endpoint_text(client));
            record(client, request.filename + " complete");
            if (counters_) {
                counters_->tftp_transfers.fetch_add(1, std::memory_order_relaxed);
                counters_->tftp_bytes.fetch_add(opened.content->size(), std::memory_order_relaxed);
            }
            break;
        case TftpTransfer::Status::aborted_by_client:
            // EDK2 asks for tsize, reads the OACK and aborts; its next request fetches the file.
            log::debug("tftp: ", endpoint_text(client), " ended the transfer of ", request.filename);
            record(client, request.filename + " aborted by client");
            break;
        case TftpTransfer::Status::failed:
            log::warn("tftp: transfer of ", request.filename, " to ", endpoint_text(client),
                      " failed: ", transfer.failure());
            record(client, request.filename + " failed: " + transfer.failure());
            if (counters_) counters_->tftp_errors.fetch_add(1, std::memory_order_relaxed);
            break;
        case TftpTransfer::Status::running:
            break;
    }
}

void TftpServer::record(const udp::endpoint& client, std::string_view detail) {
    if (!events_ || !resolve_mac_) return;
    const auto mac = resolve_mac_(client.address().to_v4());
    if (mac) events_->record(*mac, "tftp transfer", detail, std::chrono::system_clock::now());
}

}  // namespace bootherd::boot
