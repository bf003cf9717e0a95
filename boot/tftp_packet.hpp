#pragma once
// TFTP packet codec (RFC 1350, option extension RFC 2347 and the OACK). The only code that reads TFTP bytes
// from the network. Option names are lower-cased on parse (they are case-insensitive); values are kept as
// sent.
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace bootherd::boot {

enum class TftpOpcode : std::uint16_t { rrq = 1, wrq = 2, data = 3, ack = 4, error = 5, oack = 6 };

enum class TftpErrorCode : std::uint16_t {
    not_defined = 0,
    file_not_found = 1,
    access_violation = 2,
    disk_full = 3,
    illegal_operation = 4,
    unknown_transfer_id = 5,
    file_exists = 6,
    no_such_user = 7,
    option_refused = 8,
};

using TftpOptionList = std::vector<std::pair<std::string, std::string>>;

struct TftpRequest {
    bool is_write = false;  // WRQ
    std::string filename;
    std::string mode;  // lower-cased: "octet", "netascii", "mail"
    TftpOptionList options;
    bool operator==(const TftpRequest&) const = default;
};

struct TftpData {
    std::uint16_t block = 0;
    std::vector<std::uint8_t> payload;
    bool operator==(const TftpData&) const = default;
};

struct TftpAck {
    std::uint16_t block = 0;
    bool operator==(const TftpAck&) const = default;
};

struct TftpError {
    TftpErrorCode code = TftpErrorCode::not_defined;
    std::string message;
    bool operator==(const TftpError&) const = default;
};

struct TftpOack {
    TftpOptionList options;
    bool operator==(const TftpOack&) const = default;
};

using TftpPacket = std::variant<TftpRequest, TftpData, TftpAck, TftpError, TftpOack>;

inline constexpr std::size_t tftp_max_options = 32;

// Throws MalformedPacket: unknown opcode, short packet, unterminated string, empty filename, more than
// tftp_max_options options, an option name without value, a repeated option name.
TftpPacket parse_tftp_packet(std::span<const std::uint8_t> bytes);

std::vector<std::uint8_t> serialize_tftp_packet(const TftpPacket& packet);
// DATA without copying the payload into a TftpData first.
std::vector<std::uint8_t> serialize_tftp_data(std::uint16_t block, std::span<const std::uint8_t> payload);

}  // namespace bootherd::boot
