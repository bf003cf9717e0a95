#include "boot/tftp_packet.hpp"

#include <algorithm>

#include "boot/malformed_packet.hpp"
#include "common/bytes.hpp"

namespace bootherd::boot {
namespace {

// Reads NUL-terminated strings one after the other; throws if a string is not terminated.
class StringReader {
  public:
    explicit StringReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
    bool at_end() const { return at_ == bytes_.size(); }
    std::string next(const char* what) {
        const auto begin = bytes_.begin() + static_cast<std::ptrdiff_t>(at_);
        const auto nul = std::find(begin, bytes_.end(), std::uint8_t{0});
        if (nul == bytes_.end())
            throw MalformedPacket(std::string("TFTP ") + what + " is not NUL-terminated");
        std::string text(begin, nul);
        at_ = static_cast<std::size_t>(nul - bytes_.begin()) + 1;
        return text;
    }

  private:
    std::span<const std::uint8_t> bytes_;
    std::size_t at_ = 0;
};

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; });
    return text;
}

TftpOptionList read_options(StringReader& reader) {
    TftpOptionList options;
    while (!reader.at_end()) {
        if (options.size() == tftp_max_options) throw MalformedPacket("TFTP packet carries too many options");
        std::string name = lower(reader.next("option name"));
        if (name.empty()) throw MalformedPacket("TFTP option with empty name");
        std::string value = reader.next("option value");
        const bool repeated = std::any_of(options.begin(), options.end(),
                                          [&](const auto& option) { return option.first == name; });
        if (repeated) throw MalformedPacket("TFTP option " + name + " repeated");
        options.emplace_back(std::move(name), std::move(value));
    }
    return options;
}

void put_u16(std::vector<std::uint8_t>& out, std::uint16_t value) {
    out.push_back(static_cast<std::uint8_t>(value >> 8));
    out.push_back(static_cast<std::uint8_t>(value & 0xff));
}

void put_string(std::vector<std::uint8_t>& out, const std::string& text) {
    out.insert(out.end(), text.begin(), text.end());
    out.push_back(0);
}

void put_options(std::vector<std::uint8_t>& out, const TftpOptionList& options) {
    for (const auto& [name, value] : options) {
        put_string(out, name);
        put_string(out, value);
    }
}

}  // namespace

TftpPacket parse_tftp_packet(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < 2) throw MalformedPacket("TFTP packet shorter than its opcode");
    const std::uint16_t opcode = load_be<std::uint16_t>(bytes.data());
    const auto body = bytes.subspan(2);
    switch (static_cast<TftpOpcode>(opcode)) {
        case TftpOpcode::rrq:
        case TftpOpcode::wrq: {
            StringReader reader(body);
            TftpRequest request;
            request.is_write = opcode == static_cast<std::uint16_t>(TftpOpcode::wrq);
            request.filename = reader.next("filename");
            if (request.filename.empty()) throw MalformedPacket("TFTP request with empty filename");
            request.mode = lower(reader.next("mode"));
            request.options = read_options(reader);
            return request;
        }
        case TftpOpcode::data: {
            if (body.size() < 2) throw MalformedPacket("TFTP DATA without block number");
            return TftpData{load_be<std::uint16_t>(body.data()), {body.begin() + 2, body.end()}};
        }
        case TftpOpcode::ack:
            if (body.size() != 2) throw MalformedPacket("TFTP ACK is not 4 bytes long");
            return TftpAck{load_be<std::uint16_t>(body.data())};
        case TftpOpcode::error: {
            if (body.size() < 2) throw MalformedPacket("TFTP ERROR without error code");
            TftpError error{static_cast<TftpErrorCode>(load_be<std::uint16_t>(body.data())), {}};
            // Some clients omit the terminating NUL of the message; accept what is there.
            const auto text = body.subspan(2);
            error.message.assign(text.begin(), std::find(text.begin(), text.end(), std::uint8_t{0}));
            return error;
        }
        case TftpOpcode::oack: {
            StringReader reader(body);
            return TftpOack{read_options(reader)};
        }
    }
    throw MalformedPacket("unknown TFTP opcode " + std::to_string(opcode));
}

std::vector<std::uint8_t> serialize_tftp_packet(const TftpPacket& packet) {
    std::vector<std::uint8_t> out;
    std::visit(
        [&out](const auto& p) {
            using T = std::decay_t<decltype(p)>;
            if constexpr (std::is_same_v<T, TftpRequest>) {
                put_u16(out, static_cast<std::uint16_t>(p.is_write ? TftpOpcode::wrq : TftpOpcode::rrq));
                put_string(out, p.filename);
                put_string(out, p.mode);
                put_options(out, p.options);
            } else if constexpr (std::is_same_v<T, TftpData>) {
                out = serialize_tftp_data(p.block, p.payload);
            } else if constexpr (std::is_same_v<T, TftpAck>) {
                put_u16(out, static_cast<std::uint16_t>(TftpOpcode::ack));
                put_u16(out, p.block);
            } else if constexpr (std::is_same_v<T, TftpError>) {
                put_u16(out, static_cast<std::uint16_t>(TftpOpcode::error));
                put_u16(out, static_cast<std::uint16_t>(p.code));
                put_string(out, p.message);
            } else {
                put_u16(out, static_cast<std::uint16_t>(TftpOpcode::oack));
                put_options(out, p.options);
            }
        },
        packet);
    return out;
}

std::vector<std::uint8_t> serialize_tftp_data(std::uint16_t block, std::span<const std::uint8_t> payload) {
    std::vector<std::uint8_t> out;
    out.reserve(4 + payload.size());
    put_u16(out, static_cast<std::uint16_t>(TftpOpcode::data));
    put_u16(out, block);
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

}  // namespace bootherd::boot
