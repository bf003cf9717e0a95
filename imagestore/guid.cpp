#include "imagestore/guid.hpp"

#include <cstdio>
#include <cstring>
#include <random>

namespace bootherd::imagestore {

Guid Guid::load(const std::byte* p) {
    Guid g;
    std::memcpy(g.bytes.data(), p, 16);
    return g;
}

void Guid::store(std::byte* p) const {
    std::memcpy(p, bytes.data(), 16);
}

Guid Guid::random() {
    std::random_device rd;
    Guid g;
    for (std::size_t i = 0; i < 16; i += 4) {
        std::uint32_t v = rd();
        for (std::size_t j = 0; j < 4; ++j)
            g.bytes[i + j] = static_cast<std::byte>((v >> (8 * j)) & 0xff);
    }
    // RFC 4122 version 4, variant 1 (Data3's high nibble is byte 7 in the mixed-endian layout).
    g.bytes[7] = (g.bytes[7] & std::byte{0x0f}) | std::byte{0x40};
    g.bytes[8] = (g.bytes[8] & std::byte{0x3f}) | std::byte{0x80};
    return g;
}

namespace {
// Display order of the on-disk bytes.
constexpr std::array<std::size_t, 16> kDisplayOrder{3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
}  // namespace

std::string Guid::to_string() const {
    std::string out = "{";
    for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
        char hex[3];
        std::snprintf(hex, sizeof hex, "%02x", std::to_integer<unsigned>(bytes[kDisplayOrder[i]]));
        out += hex;
    }
    return out + "}";
}

std::optional<Guid> Guid::parse(std::string_view text) {
    if (text.size() == 38 && text.front() == '{' && text.back() == '}') text = text.substr(1, 36);
    if (text.size() != 36) return std::nullopt;
    Guid g;
    std::size_t pos = 0;
    for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            if (text[pos] != '-') return std::nullopt;
            ++pos;
        }
        unsigned value = 0;
        for (int k = 0; k < 2; ++k) {
            char c = text[pos++];
            unsigned digit;
            if (c >= '0' && c <= '9')
                digit = static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f')
                digit = static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                digit = static_cast<unsigned>(c - 'A' + 10);
            else
                return std::nullopt;
            value = value * 16 + digit;
        }
        g.bytes[kDisplayOrder[i]] = static_cast<std::byte>(value);
    }
    return g;
}

}  // namespace bootherd::imagestore
