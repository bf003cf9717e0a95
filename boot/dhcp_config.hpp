#pragma once
// Settings of the DHCP service for one interface.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "boot/boot_file.hpp"
#include "boot/dhcp_packet.hpp"

namespace bootherd::boot {

enum class DhcpMode {
    proxy,  // ProxyDHCP: boot information for PXE clients only, another server gives addresses
    full,   // the only DHCP server on the segment: addresses, leases and boot information
};

struct DhcpConfig {
    DhcpMode mode = DhcpMode::proxy;
    Ipv4 server_address;     // this host on the served interface: server identifier and TFTP server (siaddr)
    Ipv4 advertise_address;  // host used in iPXE script URLs (usually server_address)
    std::optional<std::uint16_t> http_port;  // web service port for scripts; nullopt: scripts over TFTP
    bool discovery = false;                  // serve (and report) PXE clients that are not enrolled
    BootFiles boot_files;

    // Full mode only.
    Ipv4 pool_first;
    Ipv4 pool_last;
    Ipv4 subnet_mask;
    std::optional<Ipv4> router;
    std::vector<Ipv4> dns_servers;
    std::string domain_name;
    std::chrono::seconds lease_time{3600};
    std::chrono::seconds offer_hold{60};      // how long an offered address stays reserved
    std::chrono::seconds decline_hold{3600};  // how long a declined (conflicting) address stays unused
};

}  // namespace bootherd::boot
