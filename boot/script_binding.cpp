#include "boot/script_binding.hpp"

#include "common/ip_address.hpp"

namespace bootherd::boot {
namespace {

std::optional<Ipv4> as_ipv4(const boost::asio::ip::address& address) {
    const auto v4 = unmapped(address);
    if (v4.is_v4()) return v4.to_v4();
    return std::nullopt;
}

}  // namespace

ScriptBinding bind_script_client(DhcpMode mode, const MacAddress& mac, const boost::asio::ip::address& client,
                                 const std::optional<Ipv4>& leased, const NeighbourLookup& neighbours) {
    const auto address = as_ipv4(client);
    if (!address || address->is_unspecified()) return {std::nullopt, "not an IPv4 client"};
    const auto neighbour = neighbours(*address);
    if (neighbour && *neighbour != mac)
        return {std::nullopt,
                "the neighbour table gives " + address->to_string() + " to " + neighbour->to_string()};
    if (mode == DhcpMode::full) {
        if (!leased) return {std::nullopt, "it holds no DHCP lease"};
        if (*leased != *address) return {std::nullopt, "its lease is " + leased->to_string()};
        return {*address, {}};
    }
    if (!neighbour)
        return {std::nullopt, "the neighbour table does not tie " + address->to_string() + " to its MAC"};
    return {*address, {}};
}

}  // namespace bootherd::boot
