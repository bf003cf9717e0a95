#pragma once
// Dual-stack sockets report IPv4 peers as IPv4-mapped IPv6 addresses (::ffff:a.b.c.d); every check against
// configured IPv4 addresses and every log line wants the IPv4 address they carry.
#include <boost/asio/ip/address.hpp>

namespace bootherd {

// An IPv4-mapped IPv6 address as the IPv4 address it carries; any other address as it is.
inline boost::asio::ip::address unmapped(const boost::asio::ip::address& address) {
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
    return address;
}

}  // namespace bootherd
