#pragma once
// The DHCP service on Asio: UDP sockets bound to one interface (SO_BINDTODEVICE) on the DHCP server port and,
// for ProxyDHCP, the PXE port 4011. Datagrams are decoded, handed to the DhcpEngine and its reply is sent
// where RFC 2131 §4.1 says. Malformed datagrams are dropped with a rate-limited log line. Runs on the
// executor passed in; run it on one thread (the engine is not locked).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/udp.hpp>
#include <optional>
#include <string>

#include "boot/boot_counters.hpp"
#include "boot/dhcp_engine.hpp"
#include "common/rate_limited_log.hpp"

namespace bootherd::boot {

struct DhcpServerConfig {
    std::string interface;  // required: the service never answers on other interfaces
    std::uint16_t server_port = 67;
    std::uint16_t client_port = 68;
    std::uint16_t pxe_port = 4011;
    bool listen_pxe_port = true;  // ProxyDHCP needs it; harmless in full mode
    // SO_REUSEPORT on port 67, so a ProxyDHCP service can share the port with the real DHCP server on the
    // same host (dnsmasq with bind-interfaces sets it too). Broadcast requests reach both sockets.
    bool share_server_port = false;
};

class DhcpServer {
  public:
    // `engine` and `counters` (may be null) must outlive the server.
    DhcpServer(boost::asio::any_io_executor executor, DhcpServerConfig config, DhcpEngine& engine,
               BootCounters* counters = nullptr);

    // Binds the sockets (throws std::system_error, std::invalid_argument without an interface) and starts
    // serving.
    void start();
    void stop();

    // The bound ports (differ from the configured ones only when those were 0).
    std::uint16_t server_port() const;
    std::optional<std::uint16_t> pxe_port() const;

  private:
    boost::asio::awaitable<void> serve(boost::asio::ip::udp::socket& socket, DhcpPort port);
    boost::asio::ip::udp::endpoint reply_endpoint(const DhcpDestination& destination,
                                                  const boost::asio::ip::udp::endpoint& source) const;

    boost::asio::any_io_executor executor_;
    DhcpServerConfig config_;
    DhcpEngine& engine_;
    BootCounters* counters_;
    boost::asio::ip::udp::socket server_socket_;
    std::optional<boost::asio::ip::udp::socket> pxe_socket_;
    RateLimitedLog drop_log_{10, std::chrono::seconds(10)};
};

}  // namespace bootherd::boot
