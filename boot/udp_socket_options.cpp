#include "boot/udp_socket_options.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace bootherd::boot {

void bind_to_device(boost::asio::ip::udp::socket& socket, std::string_view interface) {
    const std::string name(interface);
    if (::setsockopt(socket.native_handle(), SOL_SOCKET, SO_BINDTODEVICE, name.c_str(),
                     static_cast<socklen_t>(name.size())) != 0)
        throw std::system_error(errno, std::system_category(), "SO_BINDTODEVICE " + name);
}

void set_reuse_port(boost::asio::ip::udp::socket& socket) {
    const int on = 1;
    if (::setsockopt(socket.native_handle(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0)
        throw std::system_error(errno, std::system_category(), "SO_REUSEPORT");
}

}  // namespace bootherd::boot
