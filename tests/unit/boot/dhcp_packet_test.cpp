#include <doctest/doctest.h>

#include "boot/boot_file.hpp"
#include "boot/dhcp_packet.hpp"
#include "boot/malformed_packet.hpp"
#include "common/bytes.hpp"
#include "dhcp_test_packets.hpp"

using namespace bootherd::boot;
using namespace bootherd::boot::testing;

namespace {

// The fixed BOOTP header plus magic cookie, followed by raw option bytes.
std::vector<std::uint8_t> raw_packet(std::vector<std::uint8_t> options) {
    std::vector<std::uint8_t> bytes(240, 0);
    bytes[0] = 1;
    bytes[1] = 1;
    bytes[2] = 6;
    bytes[236] = 99;
    bytes[237] = 130;
    bytes[238] = 83;
    bytes[239] = 99;
    for (const std::uint8_t byte : options)
        bytes.push_back(byte);
    return bytes;
}

}  // namespace

TEST_CASE("dhcp codec: round trip of a PXE DISCOVER keeps every field") {
    auto packet = client_packet(DhcpMessageType::discover, test_mac(1), Firmware::uefi_pxe);
    packet.hops = 1;
    packet.secs = 4;
    packet.ciaddr = Ipv4({10, 0, 0, 1});
    packet.yiaddr = Ipv4({10, 0, 0, 2});
    packet.siaddr = Ipv4({10, 0, 0, 3});
    packet.giaddr = Ipv4({10, 0, 0, 4});
    packet.sname = "bootserver";
    packet.file = "ipxe.efi";
    const auto bytes = serialize_dhcp_packet(packet);
    CHECK(bytes.size() >= 300);
    const auto parsed = parse_dhcp_packet(bytes);
    CHECK(parsed.xid == packet.xid);
    CHECK(parsed.flags == broadcast_flag);
    CHECK(parsed.hops == 1);
    CHECK(parsed.secs == 4);
    CHECK(parsed.ciaddr == packet.ciaddr);
    CHECK(parsed.yiaddr == packet.yiaddr);
    CHECK(parsed.siaddr == packet.siaddr);
    CHECK(parsed.giaddr == packet.giaddr);
    CHECK(parsed.client_mac() == test_mac(1));
    CHECK(parsed.sname == "bootserver");
    CHECK(parsed.file == "ipxe.efi");
    CHECK(parsed.options == packet.options);
    CHECK(parsed.message_type() == DhcpMessageType::discover);
    CHECK(parsed.client_arch() == 7);
    CHECK(parsed.vendor_class() == "PXEClient:Arch:00007:UNDI:003016");
}

TEST_CASE("dhcp codec: message type and server id come first on the wire") {
    DhcpPacket packet;
    packet.op = bootp_reply;
    packet.set_address_option(dhcp_option::subnet_mask, Ipv4({255, 255, 255, 0}));
    packet.set_address_option(dhcp_option::server_identifier, Ipv4({10, 0, 0, 1}));
    packet.set_option(dhcp_option::message_type, {2});
    const auto bytes = serialize_dhcp_packet(packet);
    CHECK(std::vector<std::uint8_t>(bytes.begin() + 240, bytes.begin() + 255) ==
          std::vector<std::uint8_t>{53, 1, 2, 54, 4, 10, 0, 0, 1, 1, 4, 255, 255, 255, 0});
    CHECK(bytes[255] == 255);
}

TEST_CASE("dhcp codec: long options are split and concatenated (RFC 3396)") {
    DhcpPacket packet;
    std::vector<std::uint8_t> long_value(600);
    for (std::size_t i = 0; i < long_value.size(); ++i)
        long_value[i] = static_cast<std::uint8_t>(i);
    packet.set_option(dhcp_option::vendor_specific, long_value);
    const auto bytes = serialize_dhcp_packet(packet);
    CHECK(bytes[240] == 43);
    CHECK(bytes[241] == 255);
    CHECK(parse_dhcp_packet(bytes).options.at(dhcp_option::vendor_specific) == long_value);
}

TEST_CASE("dhcp codec: option overload reads options from file and sname fields") {
    auto bytes = raw_packet({52, 1, 3, 53, 1, 1, 255});
    // file field (offset 108): option 60 "PXE" then end; sname field (offset 44): option 60 "Client" then
    // end.
    const std::vector<std::uint8_t> in_file{60, 3, 'P', 'X', 'E', 255};
    const std::vector<std::uint8_t> in_sname{60, 6, 'C', 'l', 'i', 'e', 'n', 't', 255};
    std::copy(in_file.begin(), in_file.end(), bytes.begin() + 108);
    std::copy(in_sname.begin(), in_sname.end(), bytes.begin() + 44);
    const auto packet = parse_dhcp_packet(bytes);
    CHECK(packet.vendor_class() == "PXEClient");
    CHECK(packet.file.empty());
    CHECK(packet.sname.empty());
    CHECK_FALSE(packet.has_option(dhcp_option::overload));
    CHECK(packet.message_type() == DhcpMessageType::discover);
}

TEST_CASE("dhcp codec: pad options are skipped") {
    const auto packet = parse_dhcp_packet(raw_packet({0, 0, 53, 1, 3, 0, 255}));
    CHECK(packet.message_type() == DhcpMessageType::request);
}

TEST_CASE("dhcp codec: malformed packets are rejected") {
    SUBCASE("truncated header") {
        auto bytes = raw_packet({53, 1, 1, 255});
        bytes.resize(239);
        CHECK_THROWS_AS(parse_dhcp_packet(bytes), MalformedPacket);
        CHECK_THROWS_AS(parse_dhcp_packet(std::vector<std::uint8_t>{}), MalformedPacket);
    }
    SUBCASE("bad magic cookie") {
        auto bytes = raw_packet({53, 1, 1, 255});
        bytes[236] = 0;
        CHECK_THROWS_AS(parse_dhcp_packet(bytes), MalformedPacket);
    }
    SUBCASE("bad op and hlen") {
        auto bytes = raw_packet({53, 1, 1, 255});
        bytes[0] = 3;
        CHECK_THROWS_AS(parse_dhcp_packet(bytes), MalformedPacket);
        bytes[0] = 1;
        bytes[2] = 17;
        CHECK_THROWS_AS(parse_dhcp_packet(bytes), MalformedPacket);
    }
    SUBCASE("option length runs past the packet") {
        CHECK_THROWS_AS(parse_dhcp_packet(raw_packet({53, 1, 1, 60, 10, 'P', 'X'})), MalformedPacket);
        CHECK_THROWS_AS(parse_dhcp_packet(raw_packet({53, 1, 1, 60})), MalformedPacket);
    }
    SUBCASE("missing end option") {
        CHECK_THROWS_AS(parse_dhcp_packet(raw_packet({53, 1, 1})), MalformedPacket);
        CHECK_THROWS_AS(parse_dhcp_packet(raw_packet({})), MalformedPacket);
    }
    SUBCASE("bad overload value, or overloaded field without end") {
        CHECK_THROWS_AS(parse_dhcp_packet(raw_packet({52, 1, 4, 255})), MalformedPacket);
        CHECK_THROWS_AS(parse_dhcp_packet(raw_packet({52, 2, 1, 1, 255})), MalformedPacket);
        auto bytes = raw_packet({52, 1, 1, 255});
        std::fill(bytes.begin() + 108, bytes.begin() + 236, std::uint8_t{0});  // all pad, no end
        CHECK_THROWS_AS(parse_dhcp_packet(bytes), MalformedPacket);
        const std::vector<std::uint8_t> overrun{60, 200, 'x'};
        std::copy(overrun.begin(), overrun.end(), bytes.begin() + 108);
        CHECK_THROWS_AS(parse_dhcp_packet(bytes), MalformedPacket);
    }
}

TEST_CASE("dhcp codec: a huge number of options parses within bounds") {
    std::vector<std::uint8_t> options;
    for (int i = 0; i < 20000; ++i) {
        const auto code = static_cast<std::uint8_t>(1 + i % 250);
        options.push_back(code == dhcp_option::overload ? std::uint8_t{253} : code);
        options.push_back(1);
        options.push_back(static_cast<std::uint8_t>(i));
    }
    options.push_back(255);
    const auto packet = parse_dhcp_packet(raw_packet(options));
    CHECK(packet.options.size() == 250);
    CHECK(packet.options.at(1).size() == 80);  // 80 instances of option 1 concatenated
    CHECK_FALSE(packet.message_type());        // option 53 concatenated to 80 bytes is not a valid type
}

TEST_CASE("dhcp codec: typed accessors check payload sizes") {
    DhcpPacket packet;
    packet.set_option(dhcp_option::requested_address, {10, 0, 0});
    CHECK_FALSE(packet.address_option(dhcp_option::requested_address));
    packet.set_option(dhcp_option::client_arch, {0});
    CHECK_FALSE(packet.client_arch());
    packet.set_option(dhcp_option::client_arch, {0, 9, 0, 7});
    CHECK(packet.client_arch() == 9);
    packet.set_option(dhcp_option::message_type, {9});
    CHECK_FALSE(packet.message_type());
    packet.set_option(dhcp_option::user_class, {4, 'i', 'P', 'X', 'E', 3, 'f', 'o', 'o'});
    CHECK(packet.user_classes() == std::vector<std::string>{"iPXE", "foo"});
    packet.set_string_option(dhcp_option::user_class, "iPXE");
    CHECK(packet.user_classes() == std::vector<std::string>{"iPXE"});
}

TEST_CASE("dhcp codec: encapsulated options (43, 175)") {
    const std::vector<std::uint8_t> ipxe{1, 1, 1, 176, 1, 1, 255, 9, 9};
    const auto parsed = parse_dhcp_suboptions(ipxe);
    CHECK(parsed.size() == 2);
    CHECK(parsed.at(176) == std::vector<std::uint8_t>{1});
    CHECK(encode_dhcp_suboptions(parsed) == std::vector<std::uint8_t>{1, 1, 1, 176, 1, 1});
    CHECK(parse_dhcp_suboptions(std::vector<std::uint8_t>{6, 1, 8}).at(6) == std::vector<std::uint8_t>{8});
    CHECK_THROWS_AS(parse_dhcp_suboptions(std::vector<std::uint8_t>{6, 5, 8}), MalformedPacket);
}

TEST_CASE("dhcp codec: over-long sname or file cannot be serialised") {
    DhcpPacket packet;
    packet.file = std::string(128, 'a');
    CHECK_THROWS_AS(serialize_dhcp_packet(packet), std::invalid_argument);
    packet.file = std::string(127, 'a');
    CHECK(parse_dhcp_packet(serialize_dhcp_packet(packet)).file == packet.file);
}

TEST_CASE("boot file choice by architecture and iPXE detection") {
    const BootFiles files;
    const std::string url = "http://10.0.0.1:8080/boot/52:54:00:12:34:01.ipxe";
    auto bios = client_packet(DhcpMessageType::discover, test_mac(1), Firmware::bios_pxe);
    CHECK(choose_boot_file(bios, files, url).file == "undionly.kpxe");
    auto uefi = client_packet(DhcpMessageType::discover, test_mac(1), Firmware::uefi_pxe);
    CHECK(choose_boot_file(uefi, files, url).file == "ipxe.efi");
    uefi.set_option(dhcp_option::client_arch, {0, 9});
    CHECK(choose_boot_file(uefi, files, url).file == "ipxe.efi");
    uefi.set_option(dhcp_option::client_arch, {0, 6});
    const auto ia32 = choose_boot_file(uefi, files, url);
    CHECK_FALSE(ia32.file);
    CHECK(ia32.reason.find("IA32") != std::string::npos);
    uefi.set_option(dhcp_option::client_arch, {0, 16});
    CHECK_FALSE(choose_boot_file(uefi, files, url).file);

    auto ipxe = client_packet(DhcpMessageType::discover, test_mac(1), Firmware::ipxe);
    const auto decision = choose_boot_file(ipxe, files, url);
    CHECK(decision.file == url);
    CHECK(decision.is_ipxe_script);
    ipxe.options.erase(dhcp_option::ipxe_encapsulated);
    CHECK(choose_boot_file(ipxe, files, url).is_ipxe_script);  // user class alone suffices
    ipxe.options.erase(dhcp_option::user_class);
    ipxe.set_option(dhcp_option::ipxe_encapsulated, {});
    CHECK(choose_boot_file(ipxe, files, url).is_ipxe_script);  // option 175 alone suffices

    CHECK(default_script_url(Ipv4({10, 0, 0, 1}), 8080, test_mac(1)) == url);
    CHECK(default_script_url(Ipv4({10, 0, 0, 1}), std::nullopt, test_mac(1)) ==
          "tftp://10.0.0.1/boot/" + test_mac(1).to_string() + ".ipxe");
}

TEST_CASE("mac address text form") {
    CHECK(MacAddress::parse("52:54:00:12:34:01") == test_mac(1));
    CHECK(MacAddress::parse("52-54-00-12-34-01") == test_mac(1));
    CHECK(MacAddress::parse("52:54:00:12:34:0G") == std::nullopt);
    CHECK(MacAddress::parse("52:54:00:12:34-01") == std::nullopt);
    CHECK(MacAddress::parse("52:54:00:12:34:0") == std::nullopt);
    CHECK(MacAddress{{0xAA, 0xbb, 0, 1, 2, 0xff}}.to_string() == "aa:bb:00:01:02:ff");
}
