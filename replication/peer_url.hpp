#pragma once
// A server's web_url as the catalog records it ("https://host:port"), split into what a connection needs.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bootherd::replication {

struct PeerUrl {
    bool tls = true;
    std::string host{};  // a name or an address, without the brackets of an IPv6 literal
    std::uint16_t port = 443;

    std::string host_header() const;  // "host:port", an IPv6 literal in brackets
    bool is_loopback() const;         // an address in 127.0.0.0/8 or ::1 ("localhost" counts too)
};

// "https://host[:port][/]" or "http://...": nullopt for anything else (a path, user info, a bad port).
std::optional<PeerUrl> parse_peer_url(std::string_view url);

}  // namespace bootherd::replication
