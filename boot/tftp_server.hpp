#pragma once
// Read-only TFTP server on Asio. The listening socket only takes requests; every transfer runs in its own
// coroutine on its own ephemeral UDP socket (the transfer ID of RFC 1350), at most max_transfers at once and
// at most max_transfers_per_client from one address, so one address cannot lock others out.
// All work happens on the executor passed in; run it on one thread (the state is not locked).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "boot/boot_counters.hpp"
#include "boot/boot_event_sink.hpp"
#include "boot/dhcp_packet.hpp"
#include "boot/tftp_file_source.hpp"
#include "boot/tftp_transfer.hpp"
#include "common/rate_limited_log.hpp"

namespace bootherd::boot {

// Maps a client's IPv4 address to its MAC for boot events (e.g. from the DHCP leases or the ARP table).
using MacResolver = std::function<std::optional<MacAddress>(Ipv4)>;

struct TftpServerConfig {
    std::string interface;  // SO_BINDTODEVICE when not empty
    Ipv4 listen_address;    // the any address by default
    std::uint16_t port = 69;
    std::size_t max_transfers = 512;
    std::size_t max_transfers_per_client = 4;  // per client address; more requests are dropped silently
    TftpLimits limits;
};

class TftpServer {
  public:
    // `source`, `events` and `counters` (may be null) and `resolve_mac` (may be empty) must outlive the
    // server.
    TftpServer(boost::asio::any_io_executor executor, TftpServerConfig config, const TftpFileSource& source,
               BootEventSink* events = nullptr, MacResolver resolve_mac = {},
               BootCounters* counters = nullptr);

    // Binds the listening socket (throws std::system_error) and starts accepting requests.
    void start();
    // Stops taking new requests; transfers in progress finish (or time out) on their own.
    void stop();

    std::uint16_t local_port() const;
    std::size_t active_transfers() const { return active_transfers_; }

  private:
    boost::asio::awaitable<void> accept_requests();
    boost::asio::awaitable<void> run_transfer(boost::asio::ip::udp::endpoint client, TftpRequest request);
    void record(const boost::asio::ip::udp::endpoint& client, std::string_view detail);

    boost::asio::any_io_executor executor_;
    TftpServerConfig config_;
    const TftpFileSource& source_;
    BootEventSink* events_;
    MacResolver resolve_mac_;
    BootCounters* counters_;
    boost::asio::ip::udp::socket socket_;
    std::size_t active_transfers_ = 0;
    // Requests being served, by client endpoint: a client that repeats its RRQ because our first DATA or OACK
    // was slow must not get a second, competing transfer.
    std::map<boost::asio::ip::udp::endpoint, TftpRequest> active_requests_;
    std::map<Ipv4, std::size_t> transfers_by_address_;
    RateLimitedLog malformed_log_{10, std::chrono::seconds(10)};
    RateLimitedLog refusal_log_{5, std::chrono::seconds(10)};
};

}  // namespace bootherd::boot
