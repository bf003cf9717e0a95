#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include "boot/wake_on_lan.hpp"
#include "dhcp_test_packets.hpp"

using namespace bootherd::boot;
namespace asio = boost::asio;

TEST_CASE("wake-on-lan: magic packet bytes") {
    const MacAddress mac{{0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc}};
    const auto packet = build_magic_packet(mac);
    REQUIRE(packet.size() == 102);
    for (std::size_t i = 0; i < 6; ++i)
        CHECK(packet[i] == 0xff);
    for (std::size_t copy = 0; copy < 16; ++copy) {
        CAPTURE(copy);
        CHECK(std::equal(mac.bytes.begin(), mac.bytes.end(), packet.begin() + 6 + copy * 6));
    }
}

TEST_CASE("wake-on-lan: the packet arrives intact (sent to 127.0.0.1 only)") {
    asio::io_context io;
    asio::ip::udp::socket receiver(io, asio::ip::udp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
    timeval timeout{2, 0};
    ::setsockopt(receiver.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    const auto mac = testing::test_mac(7);
    send_magic_packet(mac, asio::ip::make_address_v4("127.0.0.1"), "lo", receiver.local_endpoint().port());
    std::array<std::uint8_t, 200> buffer{};
    const std::size_t n = receiver.receive(asio::buffer(buffer));
    CHECK(n == magic_packet_size);
    const auto expected = build_magic_packet(mac);
    CHECK(std::equal(expected.begin(), expected.end(), buffer.begin()));
}

TEST_CASE("wake-on-lan: loopback has no broadcast address") {
    CHECK_FALSE(interface_broadcast_address("lo"));
    CHECK_FALSE(interface_broadcast_address("no-such-interface0"));
}
