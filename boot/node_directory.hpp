#pragma once
// What the boot services need to know about enrolled machines. The catalog (db/) implements this; the boot
// services only read through it, plus one write: noting a PXE client nobody enrolled yet (discovery).
#include <cstdint>
#include <optional>
#include <string>

#include "boot/dhcp_packet.hpp"
#include "boot/mac_address.hpp"

namespace bootherd::boot {

struct NodeRecord {
    std::string name;
    std::optional<Ipv4> fixed_address;  // full DHCP mode: always hand out this address
    bool enabled = true;                // disabled nodes get no answer at all
    std::string boot_script_url;        // empty: default_script_url()
    std::string hostname{};             // full DHCP mode: sent as option 12; empty: none
};

struct DiscoveredClient {
    MacAddress mac;
    std::optional<std::uint16_t> client_arch;  // DHCP option 93
    std::string vendor_class;                  // DHCP option 60
};

class NodeDirectory {
  public:
    virtual ~NodeDirectory() = default;
    virtual std::optional<NodeRecord> find(const MacAddress& mac) const = 0;
    // True when `address` is some node's fixed address, so the dynamic pool must not hand it out.
    virtual bool is_fixed_address(Ipv4 address) const = 0;
    virtual void record_discovered(const DiscoveredClient& client) = 0;
};

}  // namespace bootherd::boot
