#include "db/identifiers.hpp"

#include <array>

#include "db/error.hpp"

namespace bootherd::db {
namespace {

constexpr std::size_t max_name_length = 63;
constexpr std::size_t max_label_length = 63;
constexpr std::size_t max_hostname_length = 253;

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

std::optional<std::string> canonical_hostname(std::string_view text) {
    if (text.empty() || text.size() > max_hostname_length) return std::nullopt;
    std::string out;
    out.reserve(text.size());
    std::size_t label_start = 0;
    bool label_all_digits = true;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        if (i == text.size() || text[i] == '.') {
            const std::size_t length = i - label_start;
            if (length == 0 || length > max_label_length) return std::nullopt;
            if (text[label_start] == '-' || text[i - 1] == '-') return std::nullopt;
            if (i == text.size() && label_all_digits) return std::nullopt;
            if (i < text.size()) out += '.';
            label_start = i + 1;
            label_all_digits = true;
            continue;
        }
        char c = text[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        const bool digit = c >= '0' && c <= '9';
        if (!digit && !(c >= 'a' && c <= 'z') && c != '-') return std::nullopt;
        label_all_digits = label_all_digits && digit;
        out += c;
    }
    return out;
}

std::string require_hostname(std::string_view field, std::string_view text) {
    auto hostname = canonical_hostname(text);
    if (!hostname) {
        throw InvalidArgument(std::string(field),
                              "'" + std::string(text) +
                                  "' is not a valid host name (dot-separated labels of 1-63 characters from "
                                  "A-Z a-z 0-9 -, not starting or ending with -, 253 characters in all, "
                                  "the last label not all digits)");
    }
    return *hostname;
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
