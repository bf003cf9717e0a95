#pragma once
// Wake-on-LAN: the magic packet (6 bytes 0xff, then the MAC 16 times) sent as a UDP broadcast.
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "boot/dhcp_packet.hpp"
#include "boot/mac_address.hpp"

namespace bootherd::boot {

inline constexpr std::size_t magic_packet_size = 6 + 16 * 6;

std::array<std::uint8_t, magic_packet_size> build_magic_packet(const MacAddress& mac);

// The IPv4 broadcast address of an interface (getifaddrs), nullopt when it has none.
std::optional<Ipv4> interface_broadcast_address(std::string_view interface);

// Sends the magic packet to destination:port (UDP 9, "discard", by convention), leaving through `interface`
// when it is not empty. Throws std::system_error.
void send_magic_packet(const MacAddress& mac, Ipv4 destination, std::string_view interface,
                       std::uint16_t port = 9);

}  // namespace bootherd::boot
