#include "replication/peer_url.hpp"

#include <boost/asio/ip/address.hpp>
#include <charconv>

namespace bootherd::replication {

std::string PeerUrl::host_header() const {
    const bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool PeerUrl::is_loopback() const {
    if (host == "localhost") return true;
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(host, ec);
    return !ec && address.is_loopback();
}

std::optional<PeerUrl> parse_peer_url(std::string_view url) {
    PeerUrl peer;
    if (url.starts_with("https://")) {
        url.remove_prefix(8);
    } else if (url.starts_with("http://")) {
        url.remove_prefix(7);
        peer.tls = false;
        peer.port = 80;
    } else {
        return std::nullopt;
    }
    if (url.ends_with('/')) url.remove_suffix(1);
    if (url.empty() || url.find_first_of("/?#@ ") != std::string_view::npos) return std::nullopt;
    std::string_view port_text;
    if (url.front() == '[') {
        const auto close = url.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        peer.host = std::string(url.substr(1, close - 1));
        const auto rest = url.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return std::nullopt;
            port_text = rest.substr(1);
            if (port_text.empty()) return std::nullopt;
        }
        boost::system::error_code ec;
        boost::asio::ip::make_address_v6(peer.host, ec);
        if (ec) return std::nullopt;
    } else {
        const auto colon = url.find(':');
        peer.host = std::string(url.substr(0, colon));
        if (colon != std::string_view::npos) {
            port_text = url.substr(colon + 1);
            if (port_text.empty()) return std::nullopt;
        }
    }
    if (peer.host.empty()) return std::nullopt;
    if (!port_text.empty()) {
        unsigned port = 0;
        const auto end = port_text.data() + port_text.size();
        const auto [stop, error] = std::from_chars(port_text.data(), end, port);
        if (error != std::errc{} || stop != end || port == 0 || port > 65535) return std::nullopt;
        peer.port = static_cast<std::uint16_t>(port);
    }
    return peer;
}

}  // namespace bootherd::replication
