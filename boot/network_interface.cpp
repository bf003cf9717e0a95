#include "boot/network_interface.hpp"

#include <ifaddrs.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

namespace bootherd::boot {
namespace {

Ipv4 to_ipv4(const sockaddr* address) {
    sockaddr_in in{};
    std::memcpy(&in, address, sizeof in);
    return Ipv4(ntohl(in.sin_addr.s_addr));
}

Ipv4 parse_ipv4(std::string_view text, std::string_view whole) {
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address_v4(std::string(text), ec);
    if (ec) throw std::invalid_argument("'" + std::string(whole) + "' is not an IPv4 range START-END");
    return address;
}

}  // namespace

std::optional<InterfaceIpv4> interface_ipv4(std::string_view interface) {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) throw std::system_error(errno, std::system_category(), "getifaddrs");
    const std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> owner(list, &::freeifaddrs);
    for (const ifaddrs* entry = list; entry; entry = entry->ifa_next) {
        if (!entry->ifa_addr || entry->ifa_addr->sa_family != AF_INET || interface != entry->ifa_name)
            continue;
        InterfaceIpv4 result{to_ipv4(entry->ifa_addr), Ipv4::broadcast()};
        if (entry->ifa_netmask) result.netmask = to_ipv4(entry->ifa_netmask);
        return result;
    }
    return std::nullopt;
}

std::pair<Ipv4, Ipv4> parse_ipv4_range(std::string_view text) {
    const auto dash = text.find('-');
    if (dash == std::string_view::npos)
        throw std::invalid_argument("'" + std::string(text) + "' is not an IPv4 range START-END");
    const Ipv4 first = parse_ipv4(text.substr(0, dash), text);
    const Ipv4 last = parse_ipv4(text.substr(dash + 1), text);
    if (first.to_uint() > last.to_uint())
        throw std::invalid_argument("DHCP range '" + std::string(text) + "' ends before it starts");
    return {first, last};
}

}  // namespace bootherd::boot
