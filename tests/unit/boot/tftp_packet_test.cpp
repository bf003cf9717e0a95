#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "boot/malformed_packet.hpp"
#include "boot/tftp_packet.hpp"

using namespace bootherd::boot;
using namespace std::string_literals;

namespace {
std::vector<std::uint8_t> bytes_of(std::string_view text) {
    return {text.begin(), text.end()};
}
}  // namespace

TEST_CASE("tftp: RRQ with options parses, names lower-cased, round trips") {
    const auto wire = bytes_of(
        "\0\1pxe/ipxe.efi\0OCTET\0TSize\0"
        "0\0blksize\0"
        "1468\0windowsize\0"
        "4\0"s);
    const auto packet = parse_tftp_packet(wire);
    const auto& request = std::get<TftpRequest>(packet);
    CHECK_FALSE(request.is_write);
    CHECK(request.filename == "pxe/ipxe.efi");
    CHECK(request.mode == "octet");
    REQUIRE(request.options.size() == 3);
    CHECK(request.options[0] == std::pair<std::string, std::string>{"tsize", "0"});
    CHECK(request.options[1] == std::pair<std::string, std::string>{"blksize", "1468"});
    CHECK(request.options[2] == std::pair<std::string, std::string>{"windowsize", "4"});
    CHECK(parse_tftp_packet(serialize_tftp_packet(packet)) == packet);
}

TEST_CASE("tftp: every packet type round trips") {
    const std::vector<TftpPacket> packets{
        TftpRequest{true, "upload.bin", "octet", {}},
        TftpData{65535, {1, 2, 3}},
        TftpData{0, {}},
        TftpAck{4242},
        TftpError{TftpErrorCode::file_not_found, "no such file"},
        TftpOack{{{"blksize", "1432"}, {"tsize", "12345"}}},
    };
    for (const auto& packet : packets)
        CHECK(parse_tftp_packet(serialize_tftp_packet(packet)) == packet);
    CHECK(serialize_tftp_data(7, std::vector<std::uint8_t>{9}) == std::vector<std::uint8_t>{0, 3, 0, 7, 9});
    CHECK(serialize_tftp_packet(TftpAck{0x0102}) == std::vector<std::uint8_t>{0, 4, 1, 2});
}

TEST_CASE("tftp: malformed packets are rejected") {
    CHECK_THROWS_AS(parse_tftp_packet(std::vector<std::uint8_t>{}), MalformedPacket);
    CHECK_THROWS_AS(parse_tftp_packet(std::vector<std::uint8_t>{0}), MalformedPacket);
    CHECK_THROWS_AS(parse_tftp_packet(std::vector<std::uint8_t>{0, 7}), MalformedPacket);     // opcode 7
    CHECK_THROWS_AS(parse_tftp_packet(std::vector<std::uint8_t>{0, 4, 1}), MalformedPacket);  // short ACK
    CHECK_THROWS_AS(parse_tftp_packet(std::vector<std::uint8_t>{0, 4, 1, 2, 3}), MalformedPacket);
    CHECK_THROWS_AS(parse_tftp_packet(std::vector<std::uint8_t>{0, 3, 1}), MalformedPacket);  // DATA no block
    CHECK_THROWS_AS(parse_tftp_packet(std::vector<std::uint8_t>{0, 5, 0}), MalformedPacket);  // ERROR no code
    // Unterminated filename, unterminated mode, empty filename, option without value, repeated option.
    CHECK_THROWS_AS(parse_tftp_packet(bytes_of("\0\1file"s)), MalformedPacket);
    CHECK_THROWS_AS(parse_tftp_packet(bytes_of("\0\1file\0octet"s)), MalformedPacket);
    CHECK_THROWS_AS(parse_tftp_packet(bytes_of("\0\1\0octet\0"s)), MalformedPacket);
    CHECK_THROWS_AS(parse_tftp_packet(bytes_of("\0\1f\0octet\0tsize\0"s)), MalformedPacket);
    CHECK_THROWS_AS(parse_tftp_packet(bytes_of("\0\1f\0octet\0tsize\0"
                                               "0\0TSIZE\0"
                                               "0\0"s)),
                    MalformedPacket);
}

TEST_CASE("tftp: an option flood is refused, the limit itself accepted") {
    auto request_with = [](std::size_t count) {
        TftpRequest request{false, "f", "octet", {}};
        for (std::size_t i = 0; i < count; ++i)
            request.options.emplace_back("x" + std::to_string(i), "1");
        return serialize_tftp_packet(request);
    };
    CHECK(std::get<TftpRequest>(parse_tftp_packet(request_with(tftp_max_options))).options.size() ==
          tftp_max_options);
    CHECK_THROWS_AS(parse_tftp_packet(request_with(tftp_max_options + 1)), MalformedPacket);
}

TEST_CASE("tftp: ERROR without terminating NUL is tolerated") {
    const auto packet = parse_tftp_packet(bytes_of("\0\5\0\10user aborted"s));
    CHECK(std::get<TftpError>(packet) == TftpError{TftpErrorCode::option_refused, "user aborted"});
}
