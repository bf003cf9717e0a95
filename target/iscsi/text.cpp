#include "target/iscsi/text.hpp"

#include <algorithm>

namespace bootherd::iscsi {
namespace {

bool valid_key_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '+' || c == '@' || c == '_';
}

}  // namespace

ParsedText parse_text(std::span<const std::uint8_t> data) {
    ParsedText result;
    if (data.size() > kMaxTextSize) {
        result.error = TextError::too_long;
        return result;
    }
    const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\0', pos);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view pair = text.substr(pos, end - pos);
        pos = end + 1;
        if (pair.empty()) continue;
        const std::size_t eq = pair.find('=');
        if (eq == std::string_view::npos) {
            result.error = TextError::missing_equals;
            return result;
        }
        const std::string_view key = pair.substr(0, eq);
        const std::string_view value = pair.substr(eq + 1);
        if (key.empty() || key.size() > kMaxKeyLength ||
            !std::all_of(key.begin(), key.end(), valid_key_char)) {
            result.error = TextError::bad_key;
            return result;
        }
        if (value.size() > kMaxValueLength) {
            result.error = TextError::too_long;
            return result;
        }
        if (result.pairs.size() == kMaxKeys) {
            result.error = TextError::too_many_keys;
            return result;
        }
        result.pairs.push_back({std::string(key), std::string(value)});
    }
    return result;
}

void append_pair(std::string& out, std::string_view key, std::string_view value) {
    out.append(key);
    out.push_back('=');
    out.append(value);
    out.push_back('\0');
}

}  // namespace bootherd::iscsi
