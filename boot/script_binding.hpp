#pragma once
// Who may fetch a node's boot script (it carries the node's initiator name and CHAP secret): only the
// address the server can tie to the node's MAC. In full DHCP mode that is the address the node leased (or its
// fixed address); otherwise (ProxyDHCP, or DHCP from elsewhere) the address the boot interface's neighbour
// table maps to the MAC, which the client's own TCP or TFTP exchange has just refreshed. In both modes an
// address the neighbour table gives to another MAC is refused (a forged DHCP client identifier).
//
// What this cannot tell apart: a host that takes over the node's MAC and address (ARP spoofing on an
// unswitched segment), or clients behind a router or NAT, whose packets all come from one address: binding
// is then turned off for those nodes and only CHAP protects their disks.
#include <functional>
#include <optional>
#include <string>

#include <boost/asio/ip/address.hpp>

#include "boot/dhcp_config.hpp"
#include "boot/dhcp_packet.hpp"
#include "boot/mac_address.hpp"

namespace bootherd::boot {

struct ScriptBinding {
    std::optional<Ipv4> bound;  // the address the node's boot is now bound to; nullopt: refused
    std::string refusal{};      // why, for the log (names addresses and MACs, never secrets)
};

// The neighbour table's MAC for an address (boot::lookup_arp_table in the server).
using NeighbourLookup = std::function<std::optional<MacAddress>(Ipv4)>;

// `leased`: in full mode, the node's unexpired lease or fixed address (nullopt when it has none).
ScriptBinding bind_script_client(DhcpMode mode, const MacAddress& mac, const boost::asio::ip::address& client,
                                 const std::optional<Ipv4>& leased, const NeighbourLookup& neighbours);

}  // namespace bootherd::boot
