#pragma once
// Per-node iSCSI identity generated at enrolment: the target IQN and one-way CHAP credentials.
#include <cstddef>
#include <string>
#include <string_view>

namespace bootherd::db {

// iqn.2026-11.org.bootherd:node.<name>. iSCSI names allow only lower-case letters, digits, '-', '.' and ':'
// (RFC 3720 §3.2.6.2), so the name is lower-cased and '_' becomes '-'.
std::string node_iqn(std::string_view node_name);

// `length` characters from [A-Za-z0-9], drawn from OpenSSL's CSPRNG without modulo bias.
std::string random_credential(std::size_t length);

inline constexpr std::size_t chap_user_length = 12;
inline constexpr std::size_t chap_secret_length = 16;

}  // namespace bootherd::db
