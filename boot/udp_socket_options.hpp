#pragma once
// Socket settings shared by the DHCP, TFTP and Wake-on-LAN senders.
#include <boost/asio/ip/udp.hpp>
#include <string_view>

namespace bootherd::boot {

// SO_BINDTODEVICE: the socket sends and receives on this interface only. Throws std::system_error (needs
// CAP_NET_RAW, or an unprivileged kernel allowance, when the socket is not already bound to it).
void bind_to_device(boost::asio::ip::udp::socket& socket, std::string_view interface);

// SO_REUSEPORT: another socket (of any process run by the same user) may bind the same address and port.
void set_reuse_port(boost::asio::ip::udp::socket& socket);

}  // namespace bootherd::boot
