#pragma once
// Which file a PXE client should load next: the iPXE build for its firmware, or, for a client already running
// iPXE, its per-node script URL.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "boot/dhcp_packet.hpp"

namespace bootherd::boot {

// RFC 4578 option 93 values this server knows about.
namespace client_arch {
inline constexpr std::uint16_t bios = 0;
inline constexpr std::uint16_t efi_ia32 = 6;
inline constexpr std::uint16_t efi_bc = 7;  // x64 UEFI in practice
inline constexpr std::uint16_t efi_x64 = 9;
}  // namespace client_arch

struct BootFiles {
    std::string bios = "undionly.kpxe";
    std::string uefi_x64 = "ipxe.efi";
};

struct BootFileDecision {
    std::optional<std::string> file;  // nullopt: nothing we can boot; `reason` says why
    bool is_ipxe_script = false;
    std::string reason;
};

// iPXE identifies itself by user class "iPXE" or by sending its encapsulated options (175).
bool is_ipxe_client(const DhcpPacket& request);
// Option 60 starting with "PXEClient" (iPXE sends it too).
bool is_pxe_client(const DhcpPacket& request);

BootFileDecision choose_boot_file(const DhcpPacket& request, const BootFiles& files,
                                  std::string_view script_url);

// http://{host}:{port}/boot/{mac}.ipxe, or tftp://{host}/boot/{mac}.ipxe without a web service.
std::string default_script_url(Ipv4 host, std::optional<std::uint16_t> http_port, const MacAddress& mac);

}  // namespace bootherd::boot
