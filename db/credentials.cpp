#include "db/credentials.hpp"

#include <openssl/rand.h>

#include <array>
#include <string_view>

#include "db/error.hpp"

namespace bootherd::db {

std::string node_iqn(std::string_view node_name) {
    std::string iqn = "iqn.2026-11.org.bootherd:node.";
    for (const char c : node_name) {
        if (c >= 'A' && c <= 'Z')
            iqn += static_cast<char>(c - 'A' + 'a');
        else if (c == '_')
            iqn += '-';
        else
            iqn += c;
    }
    return iqn;
}

std::string random_credential(std::size_t length) {
    static constexpr std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    // Bytes at or above this bound would make some characters likelier than others: drop them.
    constexpr unsigned bound = 256 - 256 % alphabet.size();
    std::string out;
    out.reserve(length);
    std::array<unsigned char, 64> pool{};
    while (out.size() < length) {
        if (RAND_bytes(pool.data(), static_cast<int>(pool.size())) != 1) {
            throw Error("random_credential: OpenSSL RAND_bytes failed");
        }
        for (const unsigned char byte : pool) {
            if (out.size() == length) break;
            if (byte < bound) out += alphabet[byte % alphabet.size()];
        }
    }
    return out;
}

}  // namespace bootherd::db
