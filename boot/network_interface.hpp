#pragma once
// The IPv4 configuration of a local interface (getifaddrs), for defaults of the DHCP service.
#include <optional>
#include <string_view>

#include "boot/dhcp_packet.hpp"

namespace bootherd::boot {

struct InterfaceIpv4 {
    Ipv4 address;
    Ipv4 netmask;
};

// The interface's first IPv4 address, nullopt when it has none (or does not exist). Throws std::system_error
// when the interface list cannot be read.
std::optional<InterfaceIpv4> interface_ipv4(std::string_view interface);

// "A.B.C.D-E.F.G.H" (a DHCP address range). Throws std::invalid_argument.
std::pair<Ipv4, Ipv4> parse_ipv4_range(std::string_view text);

}  // namespace bootherd::boot
