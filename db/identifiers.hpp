#pragma once
// Parsing and validation of the identifiers users type: object names, host names and MAC addresses.
#include <optional>
#include <string>
#include <string_view>

namespace bootherd::db {

// Names of nodes, images and groups: 1-63 characters from [A-Za-z0-9._-] (fits a DNS label and a file name).
bool is_valid_name(std::string_view name) noexcept;

// Throws InvalidArgument naming `field` unless is_valid_name(name).
void require_valid_name(std::string_view field, std::string_view name);

// Host names (RFC 1123 §2.1): dot-separated labels of 1-63 characters from [A-Za-z0-9-], none starting or
// ending with '-', 253 characters at most in all (what DNS, DHCP option 12 and the iBFT carry); the last
// label is not all digits, so no host name reads as an IPv4 address. Returns the lower-case form; nullopt if
// invalid.
std::optional<std::string> canonical_hostname(std::string_view text);

// canonical_hostname or InvalidArgument naming `field`.
std::string require_hostname(std::string_view field, std::string_view text);

// Accepts aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabb.ccdd.eeff and aabbccddeeff in any letter case and
// returns the canonical lower-case colon form; nullopt for anything else.
std::optional<std::string> normalize_mac(std::string_view text);

// normalize_mac or InvalidArgument("mac", ...).
std::string require_mac(std::string_view text);

}  // namespace bootherd::db
