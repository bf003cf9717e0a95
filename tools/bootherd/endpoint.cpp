#include "tools/bootherd/endpoint.hpp"

#include <charconv>
#include <stdexcept>
#include <string>

namespace bootherd::cli {

boost::asio::ip::tcp::endpoint parse_endpoint(std::string_view text, std::uint16_t default_port) {
    auto fail = [&](const char* why) {
        return std::invalid_argument("bad address '" + std::string(text) + "': " + why);
    };
    std::string_view host = text;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {  // [v6]:port
        auto close = text.find(']');
        if (close == std::string_view::npos) throw fail("missing ']'");
        host = text.substr(1, close - 1);
        auto rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') throw fail("expected ':' after ']'");
            port = rest.substr(1);
        }
    } else if (auto colon = text.rfind(':'); colon != std::string_view::npos) {
        if (text.find(':') != colon) throw fail("write IPv6 addresses as [addr]:port");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    std::uint16_t port_number = default_port;
    if (!port.empty()) {
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), port_number);
        if (ec != std::errc{} || end != port.data() + port.size()) throw fail("the port must be 0-65535");
    }
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(std::string(host.empty() ? "0.0.0.0" : host), ec);
    if (ec) throw fail("not an IP address");
    return {address, port_number};
}

}  // namespace bootherd::cli
