#pragma once
// iSCSI text data (RFC 7143 §6): NUL-terminated key=value pairs, parsed with hard limits.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bootherd::iscsi {

struct KeyValue {
    std::string key;
    std::string value;
};

inline constexpr std::size_t kMaxKeyLength = 63;      // RFC 7143 §6.1
inline constexpr std::size_t kMaxValueLength = 8192;  // large enough for a hex CHAP_C/CHAP_R of 1024 bytes
inline constexpr std::size_t kMaxKeys = 256;
inline constexpr std::size_t kMaxTextSize = 65536;  // across all PDUs of one request (C bit)

enum class TextError { none, missing_equals, bad_key, too_long, too_many_keys };

struct ParsedText {
    std::vector<KeyValue> pairs;
    TextError error = TextError::none;
};

// Parses a complete text (all continuation PDUs concatenated). A final pair without a terminating NUL is
// accepted; empty strings between NULs (padding) are skipped.
ParsedText parse_text(std::span<const std::uint8_t> data);

// Appends "key=value\0".
void append_pair(std::string& out, std::string_view key, std::string_view value);

}  // namespace bootherd::iscsi
