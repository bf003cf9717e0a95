#include "boot/router_advertisement.hpp"

#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/multicast.hpp>
#include <boost/asio/ip/unicast.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "common/log.hpp"

namespace bootherd::boot {

namespace asio = boost::asio;
using asio::ip::icmp;

// g++ 12 destroys temporaries that live across a co_await twice: buffers handed to awaited operations below
// are named locals.

std::array<std::uint8_t, 16> build_empty_router_advertisement() {
    // Type, code, checksum(2), cur hop limit 0 (unspecified), flags 0 (no M/O), router lifetime 0,
    // reachable time 0, retrans timer 0.
    std::array<std::uint8_t, 16> message{};
    message[0] = icmpv6_router_advertisement;
    return message;
}

bool is_router_solicitation(std::span<const std::uint8_t> icmpv6_message) {
    return icmpv6_message.size() >= 8 && icmpv6_message[0] == icmpv6_router_solicitation &&
           icmpv6_message[1] == 0;
}

RouterAdvertisementResponder::RouterAdvertisementResponder(asio::any_io_executor executor,
                                                           std::string interface)
    : executor_(std::move(executor)), interface_(std::move(interface)), socket_(executor_) {}

void RouterAdvertisementResponder::start() {
    if (interface_.empty())
        throw std::invalid_argument("the router advertisement responder needs an interface");
    socket_.open(icmp::v6());
    const int fd = socket_.native_handle();
    if (::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, interface_.c_str(),
                     static_cast<socklen_t>(interface_.size())) != 0)
        throw std::system_error(errno, std::system_category(), "SO_BINDTODEVICE " + interface_);
    icmp6_filter filter{};
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(icmpv6_router_solicitation, &filter);
    if (::setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) != 0)
        throw std::system_error(errno, std::system_category(), "ICMP6_FILTER");
    // RFC 4861 §6.1.2: hosts drop router advertisements whose hop limit is not 255.
    socket_.set_option(asio::ip::unicast::hops(255));
    socket_.set_option(asio::ip::multicast::hops(255));
    // Solicitations go to all-routers (ff02::2), which a host that does not forward has not joined: without
    // joining it here the raw socket never sees them.
    socket_.set_option(asio::ip::multicast::join_group(asio::ip::make_address_v6("ff02::2"),
                                                       ::if_nametoindex(interface_.c_str())));
    asio::co_spawn(executor_, answer_solicitations(), asio::detached);
}

void RouterAdvertisementResponder::stop() {
    boost::system::error_code ignored;
    socket_.close(ignored);
}

asio::awaitable<void> RouterAdvertisementResponder::answer_solicitations() {
    constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
    const auto advertisement = build_empty_router_advertisement();
    std::vector<std::uint8_t> buffer(1500);
    for (;;) {
        icmp::endpoint source;
        const auto [ec, size] = co_await socket_.async_receive_from(asio::buffer(buffer), source, nothrow);
        if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) co_return;
        if (ec || !is_router_solicitation(std::span<const std::uint8_t>(buffer.data(), size))) continue;
        // RFC 4861 §6.2.6: answer to all-nodes, or unicast to a solicitor that has an address.
        icmp::endpoint destination = source;
        if (source.address().to_v6().is_unspecified()) {
            auto all_nodes = asio::ip::make_address_v6("ff02::1");
            all_nodes.scope_id(::if_nametoindex(interface_.c_str()));
            destination = icmp::endpoint(all_nodes, 0);
        }
        const auto [send_error, sent] =
            co_await socket_.async_send_to(asio::buffer(advertisement), destination, nothrow);
        if (send_error)
            error_log_.warn("ipv6: router advertisement to " + destination.address().to_string() +
                                " failed: " + send_error.message(),
                            RateLimitedLog::Clock::now());
    }
}

}  // namespace bootherd::boot
