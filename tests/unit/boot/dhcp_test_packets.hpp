#pragma once
// Realistic client requests, shaped like what BIOS PXE ROMs, OVMF and iPXE send.
#include "boot/dhcp_packet.hpp"

namespace bootherd::boot::testing {

inline MacAddress test_mac(std::uint8_t last) {
    return MacAddress{{0x52, 0x54, 0x00, 0x12, 0x34, last}};
}

enum class Firmware { bios_pxe, uefi_pxe, ipxe, plain_os };

inline DhcpPacket client_packet(DhcpMessageType type, const MacAddress& mac, Firmware firmware,
                                std::uint32_t xid = 0x1234abcd) {
    DhcpPacket packet;
    packet.xid = xid;
    packet.flags = broadcast_flag;
    std::copy(mac.bytes.begin(), mac.bytes.end(), packet.chaddr.begin());
    packet.set_option(dhcp_option::message_type, {static_cast<std::uint8_t>(type)});
    packet.set_option(dhcp_option::parameter_request_list, {1, 3, 6, 15, 43, 60, 66, 67, 175});
    switch (firmware) {
        case Firmware::bios_pxe:
            packet.set_string_option(dhcp_option::vendor_class, "PXEClient:Arch:00000:UNDI:002001");
            packet.set_option(dhcp_option::client_arch, {0, 0});
            packet.set_option(dhcp_option::client_ndi, {1, 2, 1});
            break;
        case Firmware::uefi_pxe:
            packet.set_string_option(dhcp_option::vendor_class, "PXEClient:Arch:00007:UNDI:003016");
            packet.set_option(dhcp_option::client_arch, {0, 7});
            packet.set_option(dhcp_option::client_ndi, {1, 3, 0x10});
            break;
        case Firmware::ipxe:
            packet.set_string_option(dhcp_option::vendor_class, "PXEClient:Arch:00000:UNDI:002001");
            packet.set_option(dhcp_option::client_arch, {0, 0});
            packet.set_string_option(dhcp_option::user_class, "iPXE");
            // 175: priority(1) 1 byte, bus-id(177) "PCI", keep-san(8) etc.; content is irrelevant here.
            packet.set_option(dhcp_option::ipxe_encapsulated, {0x01, 0x01, 0x01, 0x10, 0x01, 0x01});
            break;
        case Firmware::plain_os:
            packet.set_string_option(dhcp_option::vendor_class, "MSFT 5.0");
            break;
    }
    if (firmware != Firmware::plain_os) {
        std::vector<std::uint8_t> uuid{0};
        for (std::uint8_t i = 0; i < 16; ++i)
            uuid.push_back(i);
        packet.set_option(dhcp_option::client_uuid, uuid);
    }
    return packet;
}

}  // namespace bootherd::boot::testing
