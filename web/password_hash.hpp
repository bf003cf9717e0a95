#pragma once
// Password storage: PBKDF2-HMAC-SHA256 from OpenSSL with a random 16-byte salt, kept as
// "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>" so the cost can be raised later.
#include <string>
#include <string_view>

namespace bootherd::web {

inline constexpr int kPasswordIterations = 210000;

std::string hash_password(std::string_view password, int iterations = kPasswordIterations);
// Constant-time comparison; false for a malformed stored hash.
bool verify_password(std::string_view password, std::string_view stored);

// Random secrets and their storage form.
std::string random_token(std::size_t bytes = 32);  // hex
std::string sha256_hex(std::string_view text);

}  // namespace bootherd::web
