#pragma once
// A minimal IPv6 router-advertisement responder. iPXE configures IPv6 alongside DHCPv4 and its "ifconf"
// waits until every method finishes; with no router on the segment the router solicitation alone takes about
// 13 s. Answering each solicitation with an RA that announces nothing (router lifetime 0: not a default
// router, no prefixes, no managed/other flags) ends that wait at once and changes no host's configuration.
#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/icmp.hpp>
#include <cstdint>
#include <span>
#include <string>

#include "common/rate_limited_log.hpp"

namespace bootherd::boot {

inline constexpr std::uint8_t icmpv6_router_solicitation = 133;
inline constexpr std::uint8_t icmpv6_router_advertisement = 134;

// ICMPv6 message (checksum left 0: the kernel fills it in for raw ICMPv6 sockets).
std::array<std::uint8_t, 16> build_empty_router_advertisement();
// A well-formed router solicitation: type 133, code 0, at least the 8-byte header (RFC 4861 §6.1.1).
bool is_router_solicitation(std::span<const std::uint8_t> icmpv6_message);

class RouterAdvertisementResponder {
  public:
    // Needs CAP_NET_RAW. `interface` is required.
    RouterAdvertisementResponder(boost::asio::any_io_executor executor, std::string interface);

    // Opens the raw ICMPv6 socket (throws std::system_error) and starts answering.
    void start();
    void stop();

  private:
    boost::asio::awaitable<void> answer_solicitations();

    boost::asio::any_io_executor executor_;
    std::string interface_;
    boost::asio::ip::icmp::socket socket_;
    RateLimitedLog error_log_{5, std::chrono::seconds(60)};
};

}  // namespace bootherd::boot
