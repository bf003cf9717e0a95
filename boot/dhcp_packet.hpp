#pragma once
// DHCP/BOOTP packet codec (RFC 2131, RFC 2132, RFC 3396 long options, RFC 4578 PXE options, iPXE option 175).
// This is the only code that reads DHCP bytes from the network: every field and option length is checked
// here, and the typed accessors below are the only way the rest of bootherd looks inside option payloads.
#include <array>
#include <boost/asio/ip/address_v4.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "boot/mac_address.hpp"

namespace bootherd::boot {

using Ipv4 = boost::asio::ip::address_v4;

namespace dhcp_option {
inline constexpr std::uint8_t pad = 0;
inline constexpr std::uint8_t subnet_mask = 1;
inline constexpr std::uint8_t router = 3;
inline constexpr std::uint8_t dns_servers = 6;
inline constexpr std::uint8_t host_name = 12;
inline constexpr std::uint8_t domain_name = 15;
inline constexpr std::uint8_t vendor_specific = 43;
inline constexpr std::uint8_t requested_address = 50;
inline constexpr std::uint8_t lease_time = 51;
inline constexpr std::uint8_t overload = 52;
inline constexpr std::uint8_t message_type = 53;
inline constexpr std::uint8_t server_identifier = 54;
inline constexpr std::uint8_t parameter_request_list = 55;
inline constexpr std::uint8_t message = 56;
inline constexpr std::uint8_t max_message_size = 57;
inline constexpr std::uint8_t renewal_time = 58;
inline constexpr std::uint8_t rebinding_time = 59;
inline constexpr std::uint8_t vendor_class = 60;
inline constexpr std::uint8_t client_identifier = 61;
inline constexpr std::uint8_t tftp_server_name = 66;
inline constexpr std::uint8_t bootfile_name = 67;
inline constexpr std::uint8_t user_class = 77;
inline constexpr std::uint8_t client_arch = 93;
inline constexpr std::uint8_t client_ndi = 94;
inline constexpr std::uint8_t client_uuid = 97;
inline constexpr std::uint8_t ipxe_encapsulated = 175;
inline constexpr std::uint8_t end = 255;
}  // namespace dhcp_option

// Sub-options inside option 175 (iPXE) and option 43 (PXE vendor options).
inline constexpr std::uint8_t ipxe_no_pxedhcp = 176;
inline constexpr std::uint8_t pxe_discovery_control = 6;

enum class DhcpMessageType : std::uint8_t {
    discover = 1,
    offer = 2,
    request = 3,
    decline = 4,
    ack = 5,
    nak = 6,
    release = 7,
    inform = 8,
};
const char* to_string(DhcpMessageType type);

// Option code -> payload. Several instances of one code are concatenated on parse (RFC 3396) and split into
// 255-byte pieces on serialise.
using DhcpOptions = std::map<std::uint8_t, std::vector<std::uint8_t>>;

inline constexpr std::uint8_t bootp_request = 1;
inline constexpr std::uint8_t bootp_reply = 2;
inline constexpr std::uint16_t broadcast_flag = 0x8000;

struct DhcpPacket {
    std::uint8_t op = bootp_request;
    std::uint8_t htype = 1;  // Ethernet
    std::uint8_t hlen = 6;
    std::uint8_t hops = 0;
    std::uint32_t xid = 0;
    std::uint16_t secs = 0;
    std::uint16_t flags = 0;
    Ipv4 ciaddr;
    Ipv4 yiaddr;
    Ipv4 siaddr;
    Ipv4 giaddr;
    std::array<std::uint8_t, 16> chaddr{};
    std::string sname;  // at most 63 bytes, NUL-terminated on the wire
    std::string file;   // at most 127 bytes, NUL-terminated on the wire
    DhcpOptions options;

    // Typed views of the options the boot services use. Each checks the payload length and returns nullopt
    // (or an empty value) when the option is absent or its payload has the wrong size.
    std::optional<DhcpMessageType> message_type() const;
    std::optional<Ipv4> address_option(std::uint8_t code) const;
    std::optional<std::uint16_t> client_arch() const;  // first entry of option 93
    std::string vendor_class() const;                  // option 60
    std::vector<std::string> user_classes() const;     // option 77, RFC 3004 list or iPXE's plain string
    bool has_option(std::uint8_t code) const { return options.contains(code); }
    bool is_ethernet() const { return htype == 1 && hlen == 6; }
    MacAddress client_mac() const;

    void set_option(std::uint8_t code, std::vector<std::uint8_t> value) { options[code] = std::move(value); }
    void set_address_option(std::uint8_t code, Ipv4 address);
    void set_u32_option(std::uint8_t code, std::uint32_t value);
    void set_string_option(std::uint8_t code, std::string_view value);
};

// Parses a whole UDP payload. Throws MalformedPacket on any inconsistency: short header, missing magic
// cookie, bad op or hlen, an option running past its field, a missing end option, a bad overload value.
// sname and file are read up to their first NUL (the whole field when there is none).
DhcpPacket parse_dhcp_packet(std::span<const std::uint8_t> bytes);

// Parses a block of encapsulated sub-options (option 43, option 175). The end option is optional inside them.
DhcpOptions parse_dhcp_suboptions(std::span<const std::uint8_t> bytes);
// Encodes options as code/length/value triplets (without an end option), long values split per RFC 3396.
std::vector<std::uint8_t> encode_dhcp_suboptions(const DhcpOptions& options);

// Serialises with the message type (53) and server identifier (54) first, then the other options in code
// order, then end; padded to the 300-byte minimum old BOOTP relays expect. Throws std::invalid_argument
// when sname or file is too long for its field.
std::vector<std::uint8_t> serialize_dhcp_packet(const DhcpPacket& packet);

}  // namespace bootherd::boot
