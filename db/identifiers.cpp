#include "db/identifiers.hpp"

#include <array>

#include "db/error.hpp"

namespace bootherd::db {
namespace {

constexpr std::size_t max_name_length = 63;

bool is_name_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Reads exactly 12 hex digits laid out in groups of `group` digits joined by `separator`
// (group == 12: no separator at all). The caller has already checked the total length.
std::optional<std::array<int, 12>> read_hex(std::string_view text, char separator, std::size_t group) {
    std::array<int, 12> digits{};
    std::size_t count = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const bool separator_slot = (i + 1) % (group + 1) == 0;
        if (separator_slot) {
            if (text[i] != separator) return std::nullopt;
            continue;
        }
        const int value = hex_value(text[i]);
        if (value < 0 || count == digits.size()) return std::nullopt;
        digits[count++] = value;
    }
    if (count != digits.size()) return std::nullopt;
    return digits;
}

}  // namespace

bool is_valid_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > max_name_length) return false;
    for (const char c : name) {
        if (!is_name_char(c)) return false;
    }
    return true;
}

void require_valid_name(std::string_view field, std::string_view name) {
    if (!is_valid_name(name)) {
        throw InvalidArgument(
            std::string(field),
            "'" + std::string(name) + "' is not a valid name (1-63 characters from A-Z a-z 0-9 . _ -)");
    }
}

std::optional<std::string> normalize_mac(std::string_view text) {
    std::optional<std::array<int, 12>> digits;
    switch (text.size()) {
        case 17:
            if (text[2] != ':' && text[2] != '-') return std::nullopt;
            digits = read_hex(text, text[2], 2);
            break;
        case 14:
            digits = read_hex(text, '.', 4);
            break;
        case 12:
            digits = read_hex(text, '\0', 12);
            break;
        default:
            return std::nullopt;
    }
    if (!digits) return std::nullopt;
    static constexpr char hex[] = "0123456789abcdef";
    std::string mac;
    mac.reserve(17);
    for (std::size_t i = 0; i < digits->size(); ++i) {
        if (i != 0 && i % 2 == 0) mac += ':';
        mac += hex[(*digits)[i]];
    }
    return mac;
}

std::string require_mac(std::string_view text) {
    auto mac = normalize_mac(text);
    if (!mac) {
        throw InvalidArgument("mac",
                              "'" + std::string(text) +
                                  "' is not a MAC address (expected aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, "
                                  "aabb.ccdd.eeff or aabbccddeeff)");
    }
    return *mac;
}

}  // namespace bootherd::db
