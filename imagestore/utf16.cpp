#include "imagestore/utf16.hpp"

#include <cstdint>

#include "common/bytes.hpp"

namespace bootherd::imagestore {

namespace {
void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}
}  // namespace

std::optional<std::string> utf16_to_utf8(std::span<const std::byte> bytes, Utf16Order order) {
    if (bytes.size() % 2 != 0) return std::nullopt;
    auto unit = [&](std::size_t i) {
        return order == Utf16Order::little ? load_le<std::uint16_t>(bytes.data() + 2 * i)
                                           : load_be<std::uint16_t>(bytes.data() + 2 * i);
    };
    std::string out;
    std::size_t n = bytes.size() / 2;
    for (std::size_t i = 0; i < n; ++i) {
        std::uint32_t u = unit(i);
        if (u >= 0xd800 && u <= 0xdbff) {
            if (i + 1 >= n) return std::nullopt;
            std::uint32_t low = unit(++i);
            if (low < 0xdc00 || low > 0xdfff) return std::nullopt;
            u = 0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00);
        } else if (u >= 0xdc00 && u <= 0xdfff) {
            return std::nullopt;
        }
        append_utf8(out, u);
    }
    return out;
}

std::vector<std::byte> utf8_to_utf16le(const std::string& text) {
    std::vector<std::byte> out;
    auto put = [&](std::uint32_t u) {
        out.push_back(static_cast<std::byte>(u & 0xff));
        out.push_back(static_cast<std::byte>(u >> 8));
    };
    for (std::size_t i = 0; i < text.size();) {
        auto c = static_cast<unsigned char>(text[i]);
        std::uint32_t cp = c;
        std::size_t len = 1;
        if (c >= 0xf0)
            cp = c & 0x07u, len = 4;
        else if (c >= 0xe0)
            cp = c & 0x0fu, len = 3;
        else if (c >= 0xc0)
            cp = c & 0x1fu, len = 2;
        for (std::size_t k = 1; k < len && i + k < text.size(); ++k)
            cp = (cp << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3fu);
        i += len;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            put(0xd800 + (cp >> 10));
            put(0xdc00 + (cp & 0x3ff));
        } else {
            put(cp);
        }
    }
    return out;
}

}  // namespace bootherd::imagestore
