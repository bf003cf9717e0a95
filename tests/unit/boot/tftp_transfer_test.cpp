#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "boot/tftp_file_source.hpp"
#include "boot/tftp_transfer.hpp"

using namespace bootherd::boot;
using Clock = TftpTransfer::Clock;

namespace {

std::string pattern(std::size_t size) {
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i < size; ++i)
        bytes[i] = static_cast<char>((i * 131 + i / 251) & 0xff);
    return bytes;
}

TftpData data_of(const std::vector<std::uint8_t>& wire) {
    return std::get<TftpData>(parse_tftp_packet(wire));
}

TftpLimits retries(unsigned max_retries) {
    TftpLimits limits;
    limits.max_retries = max_retries;
    return limits;
}

TftpSettings plain(std::uint16_t blksize = 512, std::uint16_t windowsize = 1) {
    TftpSettings settings;
    settings.blksize = blksize;
    settings.windowsize = windowsize;
    settings.timeout = std::chrono::seconds(1);
    return settings;
}

}  // namespace

TEST_CASE("tftp transfer: option negotiation") {
    TftpLimits limits;
    limits.max_windowsize = 16;
    SUBCASE("EDK2 style request is accepted and answered") {
        const auto s =
            negotiate_tftp_options({{"tsize", "0"}, {"blksize", "1468"}, {"windowsize", "4"}}, 9999, limits);
        CHECK(s.blksize == 1468);
        CHECK(s.windowsize == 4);
        CHECK(s.oack == TftpOptionList{{"tsize", "9999"}, {"blksize", "1468"}, {"windowsize", "4"}});
    }
    SUBCASE("out of range values are clamped or ignored") {
        const auto s = negotiate_tftp_options(
            {{"blksize", "70000"}, {"windowsize", "500"}, {"timeout", "0"}, {"unknown", "1"}}, 1, limits);
        CHECK(s.blksize == 65464);
        CHECK(s.windowsize == 16);
        CHECK(s.oack == TftpOptionList{{"blksize", "65464"}, {"windowsize", "16"}});
        const auto small = negotiate_tftp_options({{"blksize", "7"}, {"timeout", "abc"}}, 1, limits);
        CHECK(small.blksize == 512);
        CHECK(small.oack.empty());
    }
    SUBCASE("timeout is honoured") {
        const auto s = negotiate_tftp_options({{"timeout", "7"}}, 1, limits);
        CHECK(s.timeout == std::chrono::seconds(7));
        CHECK(s.oack == TftpOptionList{{"timeout", "7"}});
    }
}

TEST_CASE(
    "tftp transfer: without options DATA 1 goes first; sizes on block boundaries end with an empty block") {
    for (const std::size_t size : {std::size_t{0}, std::size_t{511}, std::size_t{512}, std::size_t{1025}}) {
        CAPTURE(size);
        TftpMemoryContent content(pattern(size));
        TftpTransfer transfer(plain(), content, retries(3));
        const auto now = Clock::now();
        auto packets = transfer.start(now);
        std::string received;
        std::uint16_t expected_block = 1;
        while (transfer.status() == TftpTransfer::Status::running) {
            REQUIRE(packets.size() == 1);
            const auto data = data_of(packets[0]);
            CHECK(data.block == expected_block);
            received.append(data.payload.begin(), data.payload.end());
            packets = transfer.on_packet(TftpAck{data.block}, now);
            ++expected_block;
        }
        CHECK(transfer.status() == TftpTransfer::Status::complete);
        CHECK(received == pattern(size));
        CHECK(expected_block - 1 == size / 512 + 1);
    }
}

TEST_CASE("tftp transfer: OACK first, ACK 0 starts the data, deadline follows the negotiated timeout") {
    TftpMemoryContent content(pattern(3000));
    TftpSettings settings = plain(1432);
    settings.oack = {{"blksize", "1432"}, {"tsize", "3000"}};
    TftpTransfer transfer(settings, content, retries(3));
    const auto now = Clock::now();
    auto packets = transfer.start(now);
    REQUIRE(packets.size() == 1);
    CHECK(std::get<TftpOack>(parse_tftp_packet(packets[0])).options == settings.oack);
    CHECK(transfer.deadline() == now + std::chrono::seconds(1));
    CHECK(transfer.on_packet(TftpAck{1}, now).empty());  // not the ACK of the OACK
    packets = transfer.on_packet(TftpAck{0}, now);
    REQUIRE(packets.size() == 1);
    CHECK(data_of(packets[0]).block == 1);
    CHECK(data_of(packets[0]).payload.size() == 1432);
}

TEST_CASE("tftp transfer: ERROR right after the OACK ends the transfer quietly (EDK2)") {
    TftpMemoryContent content(pattern(100));
    TftpSettings settings = plain();
    settings.oack = {{"tsize", "100"}};
    TftpTransfer transfer(settings, content, retries(3));
    transfer.start(Clock::now());
    CHECK(transfer.on_packet(TftpError{TftpErrorCode::option_refused, "user aborted"}, Clock::now()).empty());
    CHECK(transfer.status() == TftpTransfer::Status::aborted_by_client);
    CHECK(transfer.on_timeout(Clock::now()).empty());
}

TEST_CASE("tftp transfer: duplicate ACKs do not cause retransmission (Sorcerer's Apprentice)") {
    TftpMemoryContent content(pattern(2048));
    TftpTransfer transfer(plain(), content, retries(3));
    const auto now = Clock::now();
    transfer.start(now);
    auto packets = transfer.on_packet(TftpAck{1}, now);
    REQUIRE(packets.size() == 1);
    CHECK(data_of(packets[0]).block == 2);
    CHECK(transfer.on_packet(TftpAck{1}, now).empty());
    CHECK(transfer.on_packet(TftpAck{1}, now).empty());
    CHECK(transfer.on_packet(TftpAck{9}, now).empty());  // beyond anything sent
    packets = transfer.on_packet(TftpAck{2}, now);
    REQUIRE(packets.size() == 1);
    CHECK(data_of(packets[0]).block == 3);
}

TEST_CASE("tftp transfer: timeout retransmits the window, then gives up after the retry limit") {
    TftpMemoryContent content(pattern(5000));
    TftpTransfer transfer(plain(512, 3), content, retries(2));
    auto now = Clock::now();
    REQUIRE(transfer.start(now).size() == 1);
    const auto window = transfer.on_packet(TftpAck{1}, now);
    REQUIRE(window.size() == 3);
    now += std::chrono::seconds(1);
    CHECK(transfer.on_timeout(now) == window);
    CHECK(transfer.deadline() == now + std::chrono::seconds(1));
    CHECK(transfer.on_timeout(now) == window);
    CHECK(transfer.on_timeout(now).empty());
    CHECK(transfer.status() == TftpTransfer::Status::failed);
    CHECK_FALSE(transfer.failure().empty());
}

TEST_CASE("tftp transfer: nothing beyond the OACK or block 1 before the client answers; dropped fast") {
    TftpMemoryContent content(pattern(512 * 20));
    TftpLimits limits;
    limits.unanswered_timeout = std::chrono::seconds(1);
    limits.unanswered_retries = 2;
    SUBCASE("windowed, with an OACK") {
        TftpSettings settings = plain(512, 8);
        settings.timeout = std::chrono::seconds(30);  // a client's long timeout does not apply yet
        settings.oack = {{"windowsize", "8"}};
        TftpTransfer transfer(settings, content, limits);
        auto now = Clock::now();
        const auto first = transfer.start(now);
        REQUIRE(first.size() == 1);
        CHECK(std::holds_alternative<TftpOack>(parse_tftp_packet(first[0])));
        CHECK(transfer.deadline() == now + std::chrono::seconds(1));
        CHECK(transfer.on_timeout(now + std::chrono::seconds(1)) == first);
        CHECK(transfer.on_timeout(now + std::chrono::seconds(2)) == first);
        CHECK(transfer.on_timeout(now + std::chrono::seconds(3)).empty());
        CHECK(transfer.status() == TftpTransfer::Status::failed);
        CHECK(transfer.bytes_sent() == 0);
    }
    SUBCASE("windowed without an OACK: block 1 alone, then the window once it is acknowledged") {
        TftpTransfer transfer(plain(512, 8), content, limits);
        const auto now = Clock::now();
        const auto first = transfer.start(now);
        REQUIRE(first.size() == 1);
        CHECK(data_of(first[0]).block == 1);
        CHECK(transfer.on_timeout(now) == first);
        const auto window = transfer.on_packet(TftpAck{1}, now);
        CHECK(window.size() == 8);
        // Answered: the full retry budget and the negotiated timeout apply now.
        for (int i = 0; i < 5; ++i)
            CHECK(transfer.on_timeout(now) == window);
        CHECK(transfer.on_timeout(now).empty());
    }
}

TEST_CASE("tftp transfer: windows advance on full ACKs and restart after a partial ACK (RFC 7440)") {
    TftpMemoryContent content(pattern(512 * 10 + 7));  // 11 blocks
    TftpTransfer transfer(plain(512, 4), content, retries(3));
    const auto now = Clock::now();
    auto packets = transfer.start(now);
    REQUIRE(packets.size() == 1);  // block 1 alone until the client answers
    packets = transfer.on_packet(TftpAck{1}, now);
    REQUIRE(packets.size() == 4);
    CHECK(data_of(packets[0]).block == 2);
    CHECK(data_of(packets[3]).block == 5);
    packets = transfer.on_packet(TftpAck{5}, now);
    REQUIRE(packets.size() == 4);
    CHECK(data_of(packets[0]).block == 6);
    // Block 9 got lost: the client acknowledges 8, the server resends from 9 (only 11 blocks in all).
    packets = transfer.on_packet(TftpAck{8}, now);
    REQUIRE(packets.size() == 3);
    CHECK(data_of(packets[0]).block == 9);
    CHECK(data_of(packets[2]).block == 11);
    CHECK(data_of(packets[2]).payload.size() == 7);
    CHECK(transfer.on_packet(TftpAck{11}, now).empty());
    CHECK(transfer.status() == TftpTransfer::Status::complete);
}

TEST_CASE("tftp transfer: block numbers roll over from 65535 to 0") {
    const std::size_t blocks = 65540;
    TftpMemoryContent content(pattern(blocks * 8 + 3));
    TftpTransfer transfer(plain(8, 2), content, retries(3));
    const auto now = Clock::now();
    auto packets = transfer.start(now);
    std::uint64_t absolute = 0;
    std::string received;
    std::vector<std::uint16_t> around_rollover;
    std::size_t misnumbered = 0;
    while (transfer.status() == TftpTransfer::Status::running) {
        REQUIRE_FALSE(packets.empty());
        std::uint16_t last = 0;
        for (const auto& wire : packets) {
            const auto data = data_of(wire);
            ++absolute;
            if (data.block != static_cast<std::uint16_t>(absolute)) ++misnumbered;
            if (absolute >= 65534 && absolute <= 65538) around_rollover.push_back(data.block);
            received.append(data.payload.begin(), data.payload.end());
            last = data.block;
        }
        packets = transfer.on_packet(TftpAck{last}, now);
    }
    CHECK(misnumbered == 0);
    CHECK(transfer.status() == TftpTransfer::Status::complete);
    CHECK(absolute == blocks + 1);
    CHECK(received == pattern(blocks * 8 + 3));
    CHECK(around_rollover == std::vector<std::uint16_t>{65534, 65535, 0, 1, 2});
}

TEST_CASE("tftp transfer: packets other than ACK or ERROR fail the transfer with an ERROR") {
    TftpMemoryContent content(pattern(10));
    TftpTransfer transfer(plain(), content, retries(3));
    transfer.start(Clock::now());
    const auto packets = transfer.on_packet(TftpData{1, {}}, Clock::now());
    REQUIRE(packets.size() == 1);
    CHECK(std::get<TftpError>(parse_tftp_packet(packets[0])).code == TftpErrorCode::illegal_operation);
    CHECK(transfer.status() == TftpTransfer::Status::failed);
}
