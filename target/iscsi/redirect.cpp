#include "target/iscsi/redirect.hpp"

#include <charconv>

#include "common/ip_address.hpp"

namespace bootherd::iscsi {

std::string target_address(const Redirect& redirect) {
    const boost::asio::ip::address address = unmapped(redirect.address);
    const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
    return host + ":" + std::to_string(redirect.port) + "," + std::to_string(redirect.portal_group_tag);
}

std::optional<Redirect> parse_portal(std::string_view portal, std::uint16_t portal_group_tag) {
    const std::size_t colon = portal.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view host = portal.substr(0, colon);
    const std::string_view port_text = portal.substr(colon + 1);
    const bool bracketed = host.starts_with('[') && host.ends_with(']');
    if (bracketed) host = host.substr(1, host.size() - 2);
    unsigned port = 0;
    const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (error != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
        return std::nullopt;
    boost::system::error_code ec;
    const boost::asio::ip::address address = boost::asio::ip::make_address(std::string(host), ec);
    if (ec || address.is_v6() != bracketed) return std::nullopt;  // IPv6 only in brackets, IPv4 never
    return Redirect{address, static_cast<std::uint16_t>(port), portal_group_tag};
}

}  // namespace bootherd::iscsi
