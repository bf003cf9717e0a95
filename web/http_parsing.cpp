#include "web/http_parsing.hpp"

#include <algorithm>

namespace bootherd::web {
namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    return text;
}

// Decimal digits only, at most 19 of them (no overflow); nullopt otherwise.
std::optional<std::uint64_t> parse_decimal(std::string_view text) {
    if (text.empty() || text.size() > 19) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return value;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%') {
            if (text.size() - i < 3) return std::nullopt;
            const int high = hex_digit(text[i + 1]);
            const int low = hex_digit(text[i + 2]);
            if (high < 0 || low < 0) return std::nullopt;
            const char decoded = static_cast<char>(high * 16 + low);
            if (decoded == '\0') return std::nullopt;
            out.push_back(decoded);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::optional<StringMap> parse_query(std::string_view query, std::size_t max_parameters) {
    StringMap result;
    std::size_t count = 0;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view part = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (part.empty()) continue;
        if (++count > max_parameters) return std::nullopt;
        const auto eq = part.find('=');
        auto key = percent_decode(part.substr(0, eq), true);
        auto value =
            percent_decode(eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1), true);
        if (!key || !value) return std::nullopt;
        result[std::move(*key)] = std::move(*value);
    }
    return result;
}

std::optional<std::string> cookie_value(std::string_view cookie_header, std::string_view name) {
    while (!cookie_header.empty()) {
        const auto semicolon = cookie_header.find(';');
        const std::string_view pair = trim(cookie_header.substr(0, semicolon));
        cookie_header =
            semicolon == std::string_view::npos ? std::string_view{} : cookie_header.substr(semicolon + 1);
        const auto eq = pair.find('=');
        if (eq == std::string_view::npos) continue;
        if (trim(pair.substr(0, eq)) != name) continue;
        std::string_view value = trim(pair.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
            value = value.substr(1, value.size() - 2);
        return std::string(value);
    }
    return std::nullopt;
}

std::optional<std::string> bearer_token(std::string_view authorization_header) {
    const std::string_view text = trim(authorization_header);
    constexpr std::string_view scheme = "bearer ";
    if (text.size() <= scheme.size()) return std::nullopt;
    for (std::size_t i = 0; i < scheme.size(); ++i) {
        const char c = text[i];
        const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        if (lower != scheme[i]) return std::nullopt;
    }
    const std::string_view token = trim(text.substr(scheme.size()));
    if (token.empty()) return std::nullopt;
    return std::string(token);
}

std::pair<std::string_view, std::string_view> split_target(std::string_view target) {
    const auto question = target.find('?');
    if (question == std::string_view::npos) return {target, {}};
    return {target.substr(0, question), target.substr(question + 1)};
}

ByteRange parse_byte_range(std::string_view range_header, std::uint64_t size) {
    constexpr std::string_view unit = "bytes=";
    const auto text = trim(range_header);
    if (!text.starts_with(unit)) return {};
    const auto spec = trim(text.substr(unit.size()));
    const auto dash = spec.find('-');
    if (dash == std::string_view::npos) return {};
    const auto first_text = trim(spec.substr(0, dash));
    const auto last_text = trim(spec.substr(dash + 1));
    if (first_text.empty()) {  // the last N bytes
        const auto suffix = parse_decimal(last_text);
        if (!suffix) return {};
        if (*suffix == 0 || size == 0) return {.kind = ByteRange::Kind::unsatisfiable};
        return {
            .kind = ByteRange::Kind::satisfiable, .first = size - std::min(*suffix, size), .last = size - 1};
    }
    const auto first = parse_decimal(first_text);
    if (!first) return {};
    std::uint64_t last = size == 0 ? 0 : size - 1;
    if (!last_text.empty()) {
        const auto given = parse_decimal(last_text);
        if (!given || *given < *first) return {};
        last = std::min(*given, last);
    }
    if (*first >= size) return {.kind = ByteRange::Kind::unsatisfiable};
    return {.kind = ByteRange::Kind::satisfiable, .first = *first, .last = last};
}

}  // namespace bootherd::web
