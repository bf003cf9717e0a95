#include "boot/dhcp_packet.hpp"

#include <algorithm>
#include <stdexcept>

#include "boot/malformed_packet.hpp"
#include "common/bytes.hpp"

namespace bootherd::boot {
namespace {

constexpr std::size_t sname_offset = 44;
constexpr std::size_t sname_size = 64;
constexpr std::size_t file_offset = 108;
constexpr std::size_t file_size = 128;
constexpr std::size_t cookie_offset = 236;
constexpr std::size_t options_offset = 240;
constexpr std::size_t minimum_reply_size = 300;
constexpr std::array<std::uint8_t, 4> magic_cookie{99, 130, 83, 99};

enum class EndOption { required, optional };

// Appends the options of one field to `into`, concatenating repeated codes (RFC 3396).
void parse_option_field(std::span<const std::uint8_t> field, EndOption end_rule, const char* field_name,
                        DhcpOptions& into) {
    std::size_t at = 0;
    while (at < field.size()) {
        const std::uint8_t code = field[at];
        if (code == dhcp_option::pad) {
            ++at;
            continue;
        }
        if (code == dhcp_option::end) return;
        if (at + 1 >= field.size())
            throw MalformedPacket(std::string("option without length byte in ") + field_name);
        const std::size_t length = field[at + 1];
        if (at + 2 + length > field.size())
            throw MalformedPacket(std::string("option ") + std::to_string(code) + " overruns " + field_name);
        auto& value = into[code];
        value.insert(value.end(), field.begin() + static_cast<std::ptrdiff_t>(at + 2),
                     field.begin() + static_cast<std::ptrdiff_t>(at + 2 + length));
        at += 2 + length;
    }
    if (end_rule == EndOption::required)
        throw MalformedPacket(std::string("missing end option in ") + field_name);
}

std::string read_c_string(std::span<const std::uint8_t> field) {
    const auto nul = std::find(field.begin(), field.end(), std::uint8_t{0});
    return std::string(field.begin(), nul);
}

Ipv4 read_address(std::span<const std::uint8_t> bytes, std::size_t at) {
    return Ipv4(load_be<std::uint32_t>(bytes.data() + at));
}

void write_address(std::vector<std::uint8_t>& out, std::size_t at, Ipv4 address) {
    store_be<std::uint32_t>(out.data() + at, address.to_uint());
}

void append_option(std::vector<std::uint8_t>& out, std::uint8_t code,
                   const std::vector<std::uint8_t>& value) {
    // A zero-length option is still written once; longer values are split into 255-byte instances.
    std::size_t at = 0;
    do {
        const std::size_t piece = std::min<std::size_t>(255, value.size() - at);
        out.push_back(code);
        out.push_back(static_cast<std::uint8_t>(piece));
        out.insert(out.end(), value.begin() + static_cast<std::ptrdiff_t>(at),
                   value.begin() + static_cast<std::ptrdiff_t>(at + piece));
        at += piece;
    } while (at < value.size());
}

}  // namespace

const char* to_string(DhcpMessageType type) {
    switch (type) {
        case DhcpMessageType::discover:
            return "DHCPDISCOVER";
        case DhcpMessageType::offer:
            return "DHCPOFFER";
        case DhcpMessageType::request:
            return "DHCPREQUEST";
        case DhcpMessageType::decline:
            return "DHCPDECLINE";
        case DhcpMessageType::ack:
            return "DHCPACK";
        case DhcpMessageType::nak:
            return "DHCPNAK";
        case DhcpMessageType::release:
            return "DHCPRELEASE";
        case DhcpMessageType::inform:
            return "DHCPINFORM";
    }
    return "DHCP?";
}

std::optional<DhcpMessageType> DhcpPacket::message_type() const {
    const auto it = options.find(dhcp_option::message_type);
    if (it == options.end() || it->second.size() != 1) return std::nullopt;
    const std::uint8_t value = it->second[0];
    if (value < 1 || value > 8) return std::nullopt;
    return static_cast<DhcpMessageType>(value);
}

std::optional<Ipv4> DhcpPacket::address_option(std::uint8_t code) const {
    const auto it = options.find(code);
    if (it == options.end() || it->second.size() != 4) return std::nullopt;
    return Ipv4(load_be<std::uint32_t>(it->second.data()));
}

std::optional<std::uint16_t> DhcpPacket::client_arch() const {
    // RFC 4578: a list of 16-bit architecture types; clients send one.
    const auto it = options.find(dhcp_option::client_arch);
    if (it == options.end() || it->second.size() < 2 || it->second.size() % 2 != 0) return std::nullopt;
    return load_be<std::uint16_t>(it->second.data());
}

std::string DhcpPacket::vendor_class() const {
    const auto it = options.find(dhcp_option::vendor_class);
    if (it == options.end()) return {};
    return std::string(it->second.begin(), it->second.end());
}

std::vector<std::string> DhcpPacket::user_classes() const {
    const auto it = options.find(dhcp_option::user_class);
    if (it == options.end() || it->second.empty()) return {};
    const auto& value = it->second;
    // RFC 3004 format: length-prefixed items that exactly fill the option. iPXE sends the bare string "iPXE",
    // whose first byte ('i' = 105) can never be a consistent item length for a 4-byte payload.
    std::vector<std::string> items;
    std::size_t at = 0;
    while (at < value.size()) {
        const std::size_t length = value[at];
        if (length == 0 || at + 1 + length > value.size()) {
            return {std::string(value.begin(), value.end())};
        }
        items.emplace_back(value.begin() + static_cast<std::ptrdiff_t>(at + 1),
                           value.begin() + static_cast<std::ptrdiff_t>(at + 1 + length));
        at += 1 + length;
    }
    return items;
}

MacAddress DhcpPacket::client_mac() const {
    MacAddress mac;
    std::copy_n(chaddr.begin(), mac.bytes.size(), mac.bytes.begin());
    return mac;
}

void DhcpPacket::set_address_option(std::uint8_t code, Ipv4 address) {
    std::vector<std::uint8_t> value(4);
    store_be<std::uint32_t>(value.data(), address.to_uint());
    options[code] = std::move(value);
}

void DhcpPacket::set_u32_option(std::uint8_t code, std::uint32_t value) {
    std::vector<std::uint8_t> bytes(4);
    store_be<std::uint32_t>(bytes.data(), value);
    options[code] = std::move(bytes);
}

void DhcpPacket::set_string_option(std::uint8_t code, std::string_view value) {
    options[code] = std::vector<std::uint8_t>(value.begin(), value.end());
}

DhcpPacket parse_dhcp_packet(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < options_offset)
        throw MalformedPacket("DHCP packet shorter than header and magic cookie");
    if (!std::equal(magic_cookie.begin(), magic_cookie.end(), bytes.begin() + cookie_offset))
        throw MalformedPacket("DHCP magic cookie missing");

    DhcpPacket packet;
    packet.op = bytes[0];
    if (packet.op != bootp_request && packet.op != bootp_reply)
        throw MalformedPacket("BOOTP op is neither 1 nor 2");
    packet.htype = bytes[1];
    packet.hlen = bytes[2];
    if (packet.hlen > packet.chaddr.size()) throw MalformedPacket("BOOTP hlen exceeds chaddr");
    packet.hops = bytes[3];
    packet.xid = load_be<std::uint32_t>(bytes.data() + 4);
    packet.secs = load_be<std::uint16_t>(bytes.data() + 8);
    packet.flags = load_be<std::uint16_t>(bytes.data() + 10);
    packet.ciaddr = read_address(bytes, 12);
    packet.yiaddr = read_address(bytes, 16);
    packet.siaddr = read_address(bytes, 20);
    packet.giaddr = read_address(bytes, 24);
    std::copy_n(bytes.begin() + 28, packet.chaddr.size(), packet.chaddr.begin());

    const auto sname_field = bytes.subspan(sname_offset, sname_size);
    const auto file_field = bytes.subspan(file_offset, file_size);
    parse_option_field(bytes.subspan(options_offset), EndOption::required, "options", packet.options);

    std::uint8_t overload = 0;
    if (const auto it = packet.options.find(dhcp_option::overload); it != packet.options.end()) {
        if (it->second.size() != 1 || it->second[0] < 1 || it->second[0] > 3)
            throw MalformedPacket("bad option overload (52) value");
        overload = it->second[0];
        packet.options.erase(it);
    }
    // RFC 2131 §4.1: the file field is read before sname when both carry options.
    if (overload & 1) {
        parse_option_field(file_field, EndOption::required, "file field", packet.options);
    } else {
        packet.file = read_c_string(file_field);
    }
    if (overload & 2) {
        parse_option_field(sname_field, EndOption::required, "sname field", packet.options);
    } else {
        packet.sname = read_c_string(sname_field);
    }
    // An overload option inside an overloaded field is meaningless; never let it leak to callers.
    packet.options.erase(dhcp_option::overload);
    return packet;
}

DhcpOptions parse_dhcp_suboptions(std::span<const std::uint8_t> bytes) {
    DhcpOptions options;
    parse_option_field(bytes, EndOption::optional, "encapsulated options", options);
    return options;
}

std::vector<std::uint8_t> encode_dhcp_suboptions(const DhcpOptions& options) {
    std::vector<std::uint8_t> out;
    for (const auto& [code, value] : options)
        append_option(out, code, value);
    return out;
}

std::vector<std::uint8_t> serialize_dhcp_packet(const DhcpPacket& packet) {
    if (packet.sname.size() >= sname_size) throw std::invalid_argument("DHCP sname longer than 63 bytes");
    if (packet.file.size() >= file_size) throw std::invalid_argument("DHCP file longer than 127 bytes");
    std::vector<std::uint8_t> out(options_offset, 0);
    out[0] = packet.op;
    out[1] = packet.htype;
    out[2] = packet.hlen;
    out[3] = packet.hops;
    store_be<std::uint32_t>(out.data() + 4, packet.xid);
    store_be<std::uint16_t>(out.data() + 8, packet.secs);
    store_be<std::uint16_t>(out.data() + 10, packet.flags);
    write_address(out, 12, packet.ciaddr);
    write_address(out, 16, packet.yiaddr);
    write_address(out, 20, packet.siaddr);
    write_address(out, 24, packet.giaddr);
    std::copy(packet.chaddr.begin(), packet.chaddr.end(), out.begin() + 28);
    std::copy(packet.sname.begin(), packet.sname.end(), out.begin() + sname_offset);
    std::copy(packet.file.begin(), packet.file.end(), out.begin() + file_offset);
    std::copy(magic_cookie.begin(), magic_cookie.end(), out.begin() + cookie_offset);

    for (const std::uint8_t first : {dhcp_option::message_type, dhcp_option::server_identifier}) {
        if (const auto it = packet.options.find(first); it != packet.options.end())
            append_option(out, first, it->second);
    }
    for (const auto& [code, value] : packet.options) {
        if (code == dhcp_option::message_type || code == dhcp_option::server_identifier) continue;
        if (code == dhcp_option::pad || code == dhcp_option::end || code == dhcp_option::overload) continue;
        append_option(out, code, value);
    }
    out.push_back(dhcp_option::end);
    if (out.size() < minimum_reply_size) out.resize(minimum_reply_size, dhcp_option::pad);
    return out;
}

}  // namespace bootherd::boot
