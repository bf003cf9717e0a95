#include "common/bind_error.hpp"

#include <boost/system/errc.hpp>

namespace bootherd {

std::string bind_error_message(std::string_view service, const std::string& address, unsigned short port,
                               const boost::system::error_code& error) {
    std::string message = std::string(service) + " cannot listen on port " + std::to_string(port) + " (" +
                          address + "): " + error.message();
    constexpr unsigned short first_unprivileged_port = 1024;
    if (error == boost::system::errc::permission_denied && port < first_unprivileged_port)
        message +=
            "; ports below 1024 need the capability CAP_NET_BIND_SERVICE (bootherd.service grants it; "
            "run as root or with that capability, e.g. setcap cap_net_bind_service=ep on the binary)";
    else if (error == boost::system::errc::address_in_use)
        message += "; another program (or another bootherd) already listens there";
    return message;
}

}  // namespace bootherd
