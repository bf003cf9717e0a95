#pragma once
// Whether a redirect would send the initiator back to this server. Initiators follow redirects without a
// limit, so such a redirect would make them loop.
#include <boost/asio/ip/tcp.hpp>

#include <span>

#include "target/iscsi/redirect.hpp"

namespace bootherd::iscsi {

// `arrival` is the local end of the connection being redirected, `listening` the endpoints the server is
// bound to (a wildcard address covers every address of this host).
bool is_own_portal(const Redirect& to, const boost::asio::ip::tcp::endpoint& arrival,
                   std::span<const boost::asio::ip::tcp::endpoint> listening);

// Whether `address` belongs to this host: loopback, unspecified, or assigned to one of its interfaces.
bool is_local_address(const boost::asio::ip::address& address);

}  // namespace bootherd::iscsi
