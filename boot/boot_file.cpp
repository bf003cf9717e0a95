#include "boot/boot_file.hpp"

#include <algorithm>

namespace bootherd::boot {

bool is_ipxe_client(const DhcpPacket& request) {
    if (request.has_option(dhcp_option::ipxe_encapsulated)) return true;
    const auto classes = request.user_classes();
    return std::find(classes.begin(), classes.end(), "iPXE") != classes.end();
}

bool is_pxe_client(const DhcpPacket& request) {
    return request.vendor_class().starts_with("PXEClient");
}

BootFileDecision choose_boot_file(const DhcpPacket& request, const BootFiles& files,
                                  std::string_view script_url) {
    if (is_ipxe_client(request)) return {std::string(script_url), true, "client runs iPXE"};
    // Old BIOS PXE ROMs may omit option 93; BIOS is the only architecture that predates it.
    const std::uint16_t arch = request.client_arch().value_or(client_arch::bios);
    switch (arch) {
        case client_arch::bios:
            return {files.bios, false, "BIOS PXE"};
        case client_arch::efi_bc:
        case client_arch::efi_x64:
            return {files.uefi_x64, false, "x64 UEFI PXE"};
        case client_arch::efi_ia32:
            return {std::nullopt, false, "32-bit (IA32) UEFI clients are not supported"};
        default:
            return {std::nullopt, false, "unsupported client architecture " + std::to_string(arch)};
    }
}

std::string default_script_url(Ipv4 host, std::optional<std::uint16_t> http_port, const MacAddress& mac) {
    const std::string path = "/boot/" + mac.to_string() + ".ipxe";
    if (!http_port) return "tftp://" + host.to_string() + path;
    return "http://" + host.to_string() + ":" + std::to_string(*http_port) + path;
}

}  // namespace bootherd::boot
