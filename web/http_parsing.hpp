#pragma once
// The untrusted text of a request line and headers that we parse ourselves: percent-encoding, query strings,
// the Cookie, Authorization and Range headers. Every function is total: bad input yields nullopt.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "web/http_message.hpp"

namespace bootherd::web {

// RFC 3986 percent-decoding; `plus_is_space` for application/x-www-form-urlencoded query strings.
// nullopt on a truncated or non-hex escape, or an escaped NUL.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

// "a=1&b=x%20y" -> {a: 1, b: "x y"}. A key without '=' maps to ""; a repeated key keeps its last value.
// nullopt when any part fails to decode or there are more than `max_parameters` parameters.
std::optional<StringMap> parse_query(std::string_view query, std::size_t max_parameters = 64);

// The value of cookie `name` in a Cookie header ("a=1; b=2"), nullopt when absent.
std::optional<std::string> cookie_value(std::string_view cookie_header, std::string_view name);

// The token of "Bearer <token>", nullopt for any other scheme or an empty token.
std::optional<std::string> bearer_token(std::string_view authorization_header);

// Splits a request target into path and query ("/a?b" -> "/a", "b").
std::pair<std::string_view, std::string_view> split_target(std::string_view target);

// What a Range header asks of a body of `size` bytes. One range of bytes only ("bytes=N-", "bytes=N-M",
// "bytes=-N"); anything else, several ranges included, is `ignored` and the whole body is sent (RFC 9110
// 14.2 lets a server ignore Range). `unsatisfiable` (416) when the range starts at or beyond the end.
struct ByteRange {
    enum class Kind { ignored, satisfiable, unsatisfiable } kind = Kind::ignored;
    std::uint64_t first = 0;  // satisfiable: [first, last]
    std::uint64_t last = 0;
};
ByteRange parse_byte_range(std::string_view range_header, std::uint64_t size);

}  // namespace bootherd::web
