#include <doctest/doctest.h>
#include <netinet/icmp6.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/io_context.hpp>
#include <thread>

#include "boot/router_advertisement.hpp"

using namespace bootherd::boot;
namespace asio = boost::asio;
using asio::ip::icmp;

TEST_CASE("router advertisement: an RA that announces nothing") {
    const auto ra = build_empty_router_advertisement();
    CHECK(ra[0] == 134);
    CHECK(ra[1] == 0);
    for (std::size_t i = 2; i < ra.size(); ++i)
        CHECK(ra[i] == 0);  // no flags, lifetime 0, no options
}

TEST_CASE("router advertisement: solicitation recognition") {
    CHECK(is_router_solicitation(std::vector<std::uint8_t>{133, 0, 0x12, 0x34, 0, 0, 0, 0}));
    CHECK(
        is_router_solicitation(std::vector<std::uint8_t>{133, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 3, 4, 5, 6}));
    CHECK_FALSE(is_router_solicitation(std::vector<std::uint8_t>{133, 0, 0, 0}));
    CHECK_FALSE(is_router_solicitation(std::vector<std::uint8_t>{133, 1, 0, 0, 0, 0, 0, 0}));
    CHECK_FALSE(is_router_solicitation(std::vector<std::uint8_t>{135, 0, 0, 0, 0, 0, 0, 0}));
}

TEST_CASE("router advertisement: a solicitation on loopback is answered by unicast") {
    asio::io_context io;
    RouterAdvertisementResponder responder(io.get_executor(), "lo");
    responder.start();
    std::thread thread([&io] { io.run(); });

    asio::io_context client_io;
    icmp::socket client(client_io, icmp::v6());
    icmp6_filter filter{};
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(icmpv6_router_advertisement, &filter);
    ::setsockopt(client.native_handle(), IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
    timeval timeout{2, 0};
    ::setsockopt(client.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    const std::array<std::uint8_t, 8> solicitation{icmpv6_router_solicitation, 0, 0, 0, 0, 0, 0, 0};
    client.send_to(asio::buffer(solicitation), icmp::endpoint(asio::ip::address_v6::loopback(), 0));
    std::array<std::uint8_t, 64> reply{};
    icmp::endpoint from;
    boost::system::error_code ec;
    const std::size_t n = client.receive_from(asio::buffer(reply), from, 0, ec);
    io.stop();
    thread.join();
    REQUIRE_FALSE(ec);
    CHECK(n == 16);
    CHECK(reply[0] == icmpv6_router_advertisement);
    CHECK(reply[6] == 0);  // router lifetime 0
    CHECK(reply[7] == 0);
}
