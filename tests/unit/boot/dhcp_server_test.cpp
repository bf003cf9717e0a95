// The DHCP service bound to the loopback interface on ephemeral ports, driven by a UDP client socket.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/io_context.hpp>
#include <thread>

#include "boot/dhcp_server.hpp"
#include "dhcp_test_packets.hpp"
#include "fakes.hpp"

using namespace bootherd::boot;
using namespace bootherd::boot::testing;
namespace asio = boost::asio;
using asio::ip::udp;

namespace {

const Ipv4 loopback = asio::ip::make_address_v4("127.0.0.1");

struct Client {
    asio::io_context io;
    udp::socket socket{io};
    Client() {
        socket.open(udp::v4());
        socket.set_option(asio::socket_base::reuse_address(true));
        socket.bind(udp::endpoint(udp::v4(), 0));
        timeval timeout{2, 0};
        ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    }
    std::uint16_t port() const { return socket.local_endpoint().port(); }
    void send(const DhcpPacket& packet, std::uint16_t to) {
        socket.send_to(asio::buffer(serialize_dhcp_packet(packet)), udp::endpoint(loopback, to));
    }
    void send_raw(const std::vector<std::uint8_t>& bytes, std::uint16_t to) {
        socket.send_to(asio::buffer(bytes), udp::endpoint(loopback, to));
    }
    std::optional<DhcpPacket> receive() {
        std::vector<std::uint8_t> buffer(2048);
        boost::system::error_code ec;
        const std::size_t n = socket.receive(asio::buffer(buffer), 0, ec);
        if (ec) return std::nullopt;
        return parse_dhcp_packet(std::span<const std::uint8_t>(buffer.data(), n));
    }
};

}  // namespace

TEST_CASE("dhcp server: proxy answers on the server port and the PXE port, ignores garbage") {
    FakeNodeDirectory directory;
    directory.nodes[test_mac(1)] = NodeRecord{"pc1", std::nullopt, true, ""};
    FakeLeaseStore leases;
    FakeEventSink events;
    DhcpConfig config;
    config.server_address = loopback;
    config.advertise_address = loopback;
    DhcpEngine engine(config, directory, leases, events);

    Client client;
    asio::io_context io;
    DhcpServerConfig server_config;
    server_config.interface = "lo";
    server_config.server_port = 0;
    server_config.pxe_port = 0;
    server_config.client_port = client.port();
    DhcpServer server(io.get_executor(), server_config, engine);
    server.start();
    REQUIRE(server.pxe_port());
    std::thread thread([&io] { io.run(); });

    client.send_raw({1, 2, 3}, server.server_port());  // malformed: dropped, the server keeps going
    client.send(client_packet(DhcpMessageType::discover, test_mac(0x99), Firmware::bios_pxe),
                server.server_port());

    // The proxy OFFER is broadcast to the client port.
    client.send(client_packet(DhcpMessageType::discover, test_mac(1), Firmware::bios_pxe, 77),
                server.server_port());
    auto offer = client.receive();
    REQUIRE(offer);
    CHECK(offer->xid == 77);  // not an answer to the unknown MAC sent before
    CHECK(offer->message_type() == DhcpMessageType::offer);
    CHECK(offer->file == "undionly.kpxe");

    // The ProxyDHCP REQUEST on the PXE port is answered to its source.
    auto request = client_packet(DhcpMessageType::request, test_mac(1), Firmware::ipxe, 78);
    request.ciaddr = loopback;
    client.send(request, *server.pxe_port());
    auto ack = client.receive();
    REQUIRE(ack);
    CHECK(ack->xid == 78);
    CHECK(ack->message_type() == DhcpMessageType::ack);
    CHECK(ack->file == "tftp://127.0.0.1/boot/52:54:00:12:34:01.ipxe");  // no web service: scripts over TFTP

    io.stop();
    thread.join();
}

TEST_CASE("dhcp server: refuses to start without an interface") {
    FakeNodeDirectory directory;
    FakeLeaseStore leases;
    FakeEventSink events;
    DhcpEngine engine(DhcpConfig{}, directory, leases, events);
    asio::io_context io;
    DhcpServer server(io.get_executor(), DhcpServerConfig{}, engine);
    CHECK_THROWS_AS(server.start(), std::invalid_argument);
}
