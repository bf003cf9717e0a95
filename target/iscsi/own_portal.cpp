#include "target/iscsi/own_portal.hpp"

#include <boost/asio/ip/udp.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include "common/ip_address.hpp"

namespace bootherd::iscsi {
namespace asio = boost::asio;

bool is_local_address(const asio::ip::address& address) {
    const asio::ip::address a = unmapped(address);
    if (a.is_loopback() || a.is_unspecified()) return true;
    // bind() succeeds only for an address assigned to one of this host's interfaces; no packet is sent.
    const int fd = ::socket(a.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const asio::ip::udp::endpoint probe(a, 0);
    const bool bound = ::bind(fd, probe.data(), static_cast<socklen_t>(probe.size())) == 0;
    ::close(fd);
    return bound;
}

bool is_own_portal(const Redirect& to, const asio::ip::tcp::endpoint& arrival,
                   std::span<const asio::ip::tcp::endpoint> listening) {
    const asio::ip::address target = unmapped(to.address);
    if (target == unmapped(arrival.address()) && to.port == arrival.port()) return true;
    for (const asio::ip::tcp::endpoint& portal : listening) {
        if (portal.port() != to.port) continue;
        const asio::ip::address bound = unmapped(portal.address());
        if (bound == target) return true;
        if (bound.is_unspecified() && bound.is_v4() == target.is_v4() && is_local_address(target))
            return true;
    }
    return false;
}

}  // namespace bootherd::iscsi
