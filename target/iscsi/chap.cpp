#include "target/iscsi/chap.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>
#include <stdexcept>

namespace bootherd::iscsi::chap {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

std::optional<std::vector<std::uint8_t>> decode_hex(std::string_view s) {
    if (s.empty() || s.size() > 2 * kMaxBinarySize) return std::nullopt;
    std::vector<std::uint8_t> out;
    // An odd number of digits means an implied leading zero nibble.
    std::size_t i = 0;
    if (s.size() % 2 == 1) {
        const int v = hex_value(s[0]);
        if (v < 0) return std::nullopt;
        out.push_back(static_cast<std::uint8_t>(v));
        i = 1;
    }
    for (; i < s.size(); i += 2) {
        const int hi = hex_value(s[i]);
        const int lo = hex_value(s[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
    }
    return out;
}

std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view s) {
    while (!s.empty() && s.back() == '=')
        s.remove_suffix(1);
    if (s.empty() || s.size() > (kMaxBinarySize * 4 + 2) / 3 || s.size() % 4 == 1) return std::nullopt;
    std::vector<std::uint8_t> out;
    std::uint32_t accumulator = 0;
    int bits = 0;
    for (const char c : s) {
        const int v = base64_value(c);
        if (v < 0) return std::nullopt;
        accumulator = (accumulator << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>((accumulator >> bits) & 0xff));
        }
    }
    return out;
}

}  // namespace

Challenge make_challenge() {
    Challenge c;
    std::array<std::uint8_t, 1 + kChallengeSize> random{};
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1)
        throw std::runtime_error("CHAP: RAND_bytes failed");
    c.identifier = random[0];
    std::copy(random.begin() + 1, random.end(), c.value.begin());
    return c;
}

Digest response(std::uint8_t identifier, std::string_view secret, std::span<const std::uint8_t> challenge) {
    const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    Digest digest{};
    unsigned int size = 0;
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), &identifier, 1) != 1 ||
        EVP_DigestUpdate(ctx.get(), secret.data(), secret.size()) != 1 ||
        EVP_DigestUpdate(ctx.get(), challenge.data(), challenge.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), digest.data(), &size) != 1 || size != digest.size())
        throw std::runtime_error("CHAP: MD5 failed");
    return digest;
}

bool matches(std::span<const std::uint8_t> received, const Digest& expected) {
    return received.size() == expected.size() &&
           CRYPTO_memcmp(received.data(), expected.data(), expected.size()) == 0;
}

std::optional<std::vector<std::uint8_t>> decode_binary(std::string_view text) {
    if (text.size() < 3 || text[0] != '0') return std::nullopt;
    if (text[1] == 'x' || text[1] == 'X') return decode_hex(text.substr(2));
    if (text[1] == 'b' || text[1] == 'B') return decode_base64(text.substr(2));
    return std::nullopt;
}

std::string encode_hex(std::span<const std::uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out = "0x";
    for (const std::uint8_t b : bytes) {
        out.push_back(kDigits[b >> 4]);
        out.push_back(kDigits[b & 15]);
    }
    return out;
}

}  // namespace bootherd::iscsi::chap
