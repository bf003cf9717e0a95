#pragma once
// CHAP with MD5 (RFC 1994, as used by RFC 7143 §12.1.3): challenges, responses and their text encodings.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bootherd::iscsi::chap {

inline constexpr std::size_t kChallengeSize = 16;
inline constexpr std::size_t kMaxBinarySize = 1024;  // RFC 7143 §12.1.3: CHAP_C at most 1024 bytes
using Digest = std::array<std::uint8_t, 16>;

struct Challenge {
    std::uint8_t identifier = 0;
    std::array<std::uint8_t, kChallengeSize> value{};
};

// A fresh challenge and identifier from OpenSSL's CSPRNG. Throws std::runtime_error if it fails.
Challenge make_challenge();

// MD5(identifier || secret || challenge).
Digest response(std::uint8_t identifier, std::string_view secret, std::span<const std::uint8_t> challenge);

// Constant-time comparison of a received response with the expected one.
bool matches(std::span<const std::uint8_t> received, const Digest& expected);

// Binary values: "0x" hex or "0b" base64 (RFC 7143 §6.1). Empty optional when malformed or too large.
std::optional<std::vector<std::uint8_t>> decode_binary(std::string_view text);
std::string encode_hex(std::span<const std::uint8_t> bytes);

}  // namespace bootherd::iscsi::chap
