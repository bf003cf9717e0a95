#pragma once
// A blocking raw-PDU iSCSI initiator for end-to-end tests against Server over loopback.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/crc32c.hpp"
#include "target/iscsi/pdu.hpp"
#include "target/iscsi/text.hpp"

namespace bootherd::iscsi::test {

struct Pdu {
    Bhs bhs{};
    std::vector<std::uint8_t> data;
    Opcode opcode() const { return static_cast<Opcode>(bhs[0] & 0x3f); }
    std::uint8_t flags() const { return bhs[1]; }
    std::uint32_t u32(std::size_t at) const { return load_be<std::uint32_t>(bhs.data() + at); }
    std::uint32_t itt() const { return u32(16); }
    std::map<std::string, std::string> keys() const {
        std::map<std::string, std::string> m;
        for (const auto& kv : parse_text(data).pairs)
            m[kv.key] = kv.value;
        return m;
    }
};

class Client {
  public:
    explicit Client(const boost::asio::ip::tcp::endpoint& endpoint) : Client(endpoint, std::nullopt) {}
    // From a chosen local address (any of 127.0.0.0/8 reaches a server on 127.0.0.1).
    Client(const boost::asio::ip::tcp::endpoint& endpoint, std::optional<boost::asio::ip::address> from)
        : socket_(io_) {
        socket_.open(endpoint.protocol());
        if (from) socket_.bind({*from, 0});
        socket_.connect(endpoint);
        const timeval timeout{5, 0};  // a hung test fails instead of blocking forever
        ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    }

    void send(const Bhs& bhs, std::span<const std::uint8_t> data = {}) {
        std::vector<std::uint8_t> wire(bhs.begin(), bhs.end());
        if (header_digest) append_digest(wire, crc32c(bhs.data(), bhs.size()));
        wire.insert(wire.end(), data.begin(), data.end());
        wire.resize(kBhsSize + (header_digest ? 4 : 0) +
                    padded_length(static_cast<std::uint32_t>(data.size())));
        if (data_digest && !data.empty())
            append_digest(wire, crc32c(wire.data() + wire.size() -
                                           padded_length(static_cast<std::uint32_t>(data.size())),
                                       padded_length(static_cast<std::uint32_t>(data.size()))));
        boost::asio::write(socket_, boost::asio::buffer(wire));
    }
    void send_raw(std::span<const std::uint8_t> bytes) {
        boost::asio::write(socket_, boost::asio::buffer(bytes.data(), bytes.size()));
    }

    Pdu receive() {
        Pdu p;
        boost::asio::read(socket_, boost::asio::buffer(p.bhs));
        if (header_digest) {
            std::array<std::uint8_t, 4> d{};
            boost::asio::read(socket_, boost::asio::buffer(d));
            if (load_le<std::uint32_t>(d.data()) != crc32c(p.bhs.data(), p.bhs.size()))
                throw std::runtime_error("bad header digest from target");
        }
        const std::uint32_t length = load_be24(p.bhs.data() + 5);
        p.data.resize(padded_length(length));
        if (length > 0) boost::asio::read(socket_, boost::asio::buffer(p.data));
        if (data_digest && length > 0) {
            std::array<std::uint8_t, 4> d{};
            boost::asio::read(socket_, boost::asio::buffer(d));
            if (load_le<std::uint32_t>(d.data()) != crc32c(p.data.data(), p.data.size()))
                throw std::runtime_error("bad data digest from target");
        }
        p.data.resize(length);
        return p;
    }

    // True if the target closed the connection (EOF) before sending anything else.
    bool closed_by_peer() {
        std::array<std::uint8_t, 1> byte{};
        boost::system::error_code ec;
        boost::asio::read(socket_, boost::asio::buffer(byte), ec);
        return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
    }

    // Two-step login (security None, operational) ending in full feature phase; returns the final response.
    Pdu login(const std::string& initiator, const std::string& target, std::uint64_t isid = 0x400000000001ull,
              const std::vector<std::pair<std::string, std::string>>& operational = {}) {
        std::string text;
        append_pair(text, "InitiatorName", initiator);
        if (target.empty()) {
            append_pair(text, "SessionType", "Discovery");
        } else {
            append_pair(text, "TargetName", target);
            append_pair(text, "SessionType", "Normal");
        }
        append_pair(text, "AuthMethod", "None");
        LoginRequest r;
        r.transit = true;
        r.current_stage = 0;
        r.next_stage = 1;
        r.isid = isid;
        r.initiator_task_tag = next_itt++;
        r.cmd_sn = cmd_sn;
        Bhs bhs;
        build(bhs, r, static_cast<std::uint32_t>(text.size()));
        send(bhs, as_span(text));
        Pdu first = receive();
        if (first.bhs[36] != 0) return first;
        text.clear();
        for (const auto& [k, v] : operational)
            append_pair(text, k, v);
        r.current_stage = 1;
        r.next_stage = 3;
        r.initiator_task_tag = next_itt++;
        build(bhs, r, static_cast<std::uint32_t>(text.size()));
        send(bhs, as_span(text));
        Pdu last = receive();
        const auto keys = last.keys();
        for (const auto& [k, v] : operational) {
            if (k == "HeaderDigest" && keys.count(k)) header_digest = keys.at(k) == "CRC32C";
            if (k == "DataDigest" && keys.count(k)) data_digest = keys.at(k) == "CRC32C";
        }
        return last;
    }

    static std::span<const std::uint8_t> as_span(const std::string& s) {
        return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
    }

    boost::asio::ip::tcp::socket& socket() { return socket_; }

    std::uint32_t next_itt = 1;
    std::uint32_t cmd_sn = 1;
    bool header_digest = false;
    bool data_digest = false;

  private:
    static void append_digest(std::vector<std::uint8_t>& wire, std::uint32_t crc) {
        wire.resize(wire.size() + 4);
        store_le(wire.data() + wire.size() - 4, crc);
    }

    boost::asio::io_context io_;
    boost::asio::ip::tcp::socket socket_;
};

}  // namespace bootherd::iscsi::test
