#include "boot/wake_on_lan.hpp"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>

#include "boot/udp_socket_options.hpp"

namespace bootherd::boot {

std::array<std::uint8_t, magic_packet_size> build_magic_packet(const MacAddress& mac) {
    std::array<std::uint8_t, magic_packet_size> packet{};
    for (std::size_t i = 0; i < 6; ++i)
        packet[i] = 0xff;
    for (std::size_t copy = 0; copy < 16; ++copy)
        for (std::size_t i = 0; i < 6; ++i)
            packet[6 + copy * 6 + i] = mac.bytes[i];
    return packet;
}

std::optional<Ipv4> interface_broadcast_address(std::string_view interface) {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) throw std::system_error(errno, std::system_category(), "getifaddrs");
    const std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> owner(list, &::freeifaddrs);
    for (const ifaddrs* entry = list; entry; entry = entry->ifa_next) {
        if (!entry->ifa_addr || entry->ifa_addr->sa_family != AF_INET || interface != entry->ifa_name)
            continue;
        if (!(entry->ifa_flags & IFF_BROADCAST) || !entry->ifa_broadaddr) continue;
        sockaddr_in broadcast{};
        std::memcpy(&broadcast, entry->ifa_broadaddr, sizeof broadcast);
        return Ipv4(ntohl(broadcast.sin_addr.s_addr));
    }
    return std::nullopt;
}

void send_magic_packet(const MacAddress& mac, Ipv4 destination, std::string_view interface,
                       std::uint16_t port) {
    namespace asio = boost::asio;
    asio::io_context io;
    asio::ip::udp::socket socket(io);
    socket.open(asio::ip::udp::v4());
    socket.set_option(asio::socket_base::broadcast(true));
    if (!interface.empty()) bind_to_device(socket, interface);
    const auto packet = build_magic_packet(mac);
    boost::system::error_code ec;
    socket.send_to(asio::buffer(packet), asio::ip::udp::endpoint(destination, port), 0, ec);
    if (ec) throw std::system_error(ec, "sending Wake-on-LAN packet to " + destination.to_string());
}

}  // namespace bootherd::boot
