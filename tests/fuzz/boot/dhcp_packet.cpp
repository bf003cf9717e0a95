// libFuzzer harness for the DHCP codec: arbitrary datagrams must either parse or throw MalformedPacket;
// what parses must survive serialise/parse unchanged, and every typed accessor must stay in bounds.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "boot/boot_file.hpp"
#include "boot/dhcp_packet.hpp"
#include "boot/malformed_packet.hpp"

using namespace bootherd::boot;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    DhcpPacket packet;
    try {
        packet = parse_dhcp_packet(std::span<const std::uint8_t>(data, size));
    } catch (const MalformedPacket&) {
        return 0;
    }
    (void)packet.message_type();
    (void)packet.client_arch();
    (void)packet.user_classes();
    (void)packet.address_option(dhcp_option::requested_address);
    (void)choose_boot_file(packet, BootFiles{}, "http://192.0.2.1/boot/x.ipxe");
    for (const std::uint8_t code : {dhcp_option::vendor_specific, dhcp_option::ipxe_encapsulated}) {
        const auto it = packet.options.find(code);
        if (it == packet.options.end()) continue;
        try {
            (void)parse_dhcp_suboptions(it->second);
        } catch (const MalformedPacket&) {
        }
    }
    // A file or sname field without a NUL parses to 128/64 characters, which a reply can never carry.
    if (packet.file.size() >= 128 || packet.sname.size() >= 64) return 0;
    const DhcpPacket again = parse_dhcp_packet(serialize_dhcp_packet(packet));
    if (again.options != packet.options || again.xid != packet.xid || again.chaddr != packet.chaddr ||
        again.file != packet.file || again.sname != packet.sname || again.ciaddr != packet.ciaddr)
        std::abort();
    return 0;
}
