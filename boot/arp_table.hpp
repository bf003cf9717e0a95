#pragma once
// The kernel's IPv4 neighbour table (/proc/net/arp): which MAC a TFTP client's address belongs to, so
// TFTP progress can be reported per machine in proxy mode too (where we hand out no leases).
#include <filesystem>
#include <istream>
#include <optional>

#include "boot/dhcp_packet.hpp"
#include "boot/mac_address.hpp"

namespace bootherd::boot {

// Reads the /proc/net/arp text format; incomplete entries (flags 0x0) are skipped.
std::optional<MacAddress> find_in_arp_table(std::istream& table, Ipv4 address);
std::optional<MacAddress> lookup_arp_table(Ipv4 address,
                                           const std::filesystem::path& table = "/proc/net/arp");

}  // namespace bootherd::boot
