// The committed fuzz seeds are realistic client packets: they must parse and mean what their names say.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "boot/boot_file.hpp"
#include "boot/dhcp_packet.hpp"
#include "boot/tftp_packet.hpp"

using namespace bootherd::boot;

namespace {
std::vector<std::uint8_t> seed(const char* harness, const char* name) {
    const auto path =
        std::filesystem::path(__FILE__).parent_path() / "../../fuzz/boot/corpus" / harness / name;
    std::ifstream in(path, std::ios::binary);
    REQUIRE_MESSAGE(in, "missing seed ", path.string());
    return {std::istreambuf_iterator<char>(in), {}};
}
}  // namespace

TEST_CASE("fuzz seeds: DHCP") {
    const BootFiles files;
    const auto bios = parse_dhcp_packet(seed("dhcp_packet", "pxe_discover_bios"));
    CHECK(bios.message_type() == DhcpMessageType::discover);
    CHECK(choose_boot_file(bios, files, "url").file == "undionly.kpxe");
    const auto uefi = parse_dhcp_packet(seed("dhcp_packet", "pxe_discover_uefi_x64"));
    CHECK(choose_boot_file(uefi, files, "url").file == "ipxe.efi");
    const auto ipxe = parse_dhcp_packet(seed("dhcp_packet", "ipxe_request_175"));
    CHECK(ipxe.message_type() == DhcpMessageType::request);
    CHECK(is_ipxe_client(ipxe));
    CHECK(parse_dhcp_suboptions(ipxe.options.at(dhcp_option::ipxe_encapsulated)).contains(177));
    const auto overload = parse_dhcp_packet(seed("dhcp_packet", "discover_overload_file"));
    CHECK(is_pxe_client(overload));
}

TEST_CASE("fuzz seeds: TFTP") {
    const auto edk2 = std::get<TftpRequest>(parse_tftp_packet(seed("tftp_packet", "rrq_edk2")));
    CHECK(edk2.filename == "ipxe.efi");
    CHECK(edk2.options.size() == 3);
    CHECK(std::get<TftpRequest>(parse_tftp_packet(seed("tftp_packet", "rrq_ipxe"))).options.size() == 2);
    CHECK(std::get<TftpRequest>(parse_tftp_packet(seed("tftp_packet", "wrq"))).is_write);
    CHECK(std::holds_alternative<TftpError>(parse_tftp_packet(seed("tftp_packet", "error_user_aborted"))));
    CHECK(std::holds_alternative<TftpOack>(parse_tftp_packet(seed("tftp_packet", "oack"))));
    CHECK(std::holds_alternative<TftpAck>(parse_tftp_packet(seed("tftp_packet", "ack"))));
}
