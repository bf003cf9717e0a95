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

// How much of the service machines that are not enrolled (discovery, auto-enrolment) may take, so a flood
// of spoofed MACs cannot starve enrolled machines. Enrolled machines are never limited by these.
struct UnknownClientLimits {
    double new_per_second = 10;           // new unknown MACs taken on per second (token bucket)...
    double burst = 20;                    // ...with this many at once
    std::chrono::seconds remembered{60};  // a MAC taken on is served without a new token for this long
    unsigned pool_share_percent = 25;     // full mode: share of the pool they may hold at once
    std::chrono::seconds offer_hold{15};  // full mode: an offer they do not REQUEST is reclaimed this soon
    std::chrono::seconds event_interval{60};  // at most one boot event per unknown MAC per interval...
    double events_per_second = 5;             // ...and this many for all of them together
    double event_burst = 20;
};

struct DhcpConfig {
    DhcpMode mode = DhcpMode::proxy;
    Ipv4 server_address;     // this host on the served interface: server identifier and TFTP server (siaddr)
    Ipv4 advertise_address;  // host used in iPXE script URLs (usually server_address)
    std::optional<std::uint16_t> http_port;  // web service port for scripts; nullopt: scripts over TFTP
    bool discovery = false;                  // serve (and report) PXE clients that are not enrolled
    UnknownClientLimits unknown;             // with discovery: what unknown clients may take
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
