#include "web/password_hash.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>
#include <optional>
#include <stdexcept>
#include <vector>

namespace bootherd::web {
namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;

std::string to_hex(const unsigned char* data, std::size_t size) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (std::size_t i = 0; i < size; ++i) {
        out.push_back(digits[data[i] >> 4]);
        out.push_back(digits[data[i] & 0x0f]);
    }
    return out;
}

std::optional<std::vector<unsigned char>> from_hex(std::string_view hex) {
    if (hex.size() % 2 != 0) return std::nullopt;
    std::vector<unsigned char> out(hex.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
        unsigned value = 0;
        const char* first = hex.data() + 2 * i;
        auto [end, ec] = std::from_chars(first, first + 2, value, 16);
        if (ec != std::errc{} || end != first + 2) return std::nullopt;
        out[i] = static_cast<unsigned char>(value);
    }
    return out;
}

std::vector<unsigned char> random_bytes(std::size_t count) {
    std::vector<unsigned char> bytes(count);
    if (RAND_bytes(bytes.data(), static_cast<int>(count)) != 1) throw std::runtime_error("RAND_bytes failed");
    return bytes;
}

std::array<unsigned char, kHashBytes> derive(std::string_view password,
                                             const std::vector<unsigned char>& salt, int iterations) {
    std::array<unsigned char, kHashBytes> out{};
    if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                          static_cast<int>(salt.size()), iterations, EVP_sha256(),
                          static_cast<int>(out.size()), out.data()) != 1)
        throw std::runtime_error("PBKDF2 failed");
    return out;
}

}  // namespace

std::string hash_password(std::string_view password, int iterations) {
    const auto salt = random_bytes(kSaltBytes);
    const auto hash = derive(password, salt, iterations);
    return std::string(kScheme) + "$" + std::to_string(iterations) + "$" + to_hex(salt.data(), salt.size()) +
           "$" + to_hex(hash.data(), hash.size());
}

bool verify_password(std::string_view password, std::string_view stored) {
    std::array<std::string_view, 4> parts;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const auto dollar = stored.find('$');
        if ((dollar == std::string_view::npos) != (i == parts.size() - 1)) return false;
        parts[i] = stored.substr(0, dollar);
        stored = dollar == std::string_view::npos ? std::string_view{} : stored.substr(dollar + 1);
    }
    if (parts[0] != kScheme) return false;
    int iterations = 0;
    auto [end, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), iterations);
    if (ec != std::errc{} || end != parts[1].data() + parts[1].size() || iterations < 1 ||
        iterations > 10000000)
        return false;
    auto salt = from_hex(parts[2]);
    auto expected = from_hex(parts[3]);
    if (!salt || salt->empty() || !expected || expected->size() != kHashBytes) return false;
    const auto actual = derive(password, *salt, iterations);
    return CRYPTO_memcmp(actual.data(), expected->data(), kHashBytes) == 0;
}

std::string random_token(std::size_t bytes) {
    const auto data = random_bytes(bytes);
    return to_hex(data.data(), data.size());
}

std::string sha256_hex(std::string_view text) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned size = 0;
    if (EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("SHA-256 failed");
    return to_hex(digest.data(), size);
}

}  // namespace bootherd::web
