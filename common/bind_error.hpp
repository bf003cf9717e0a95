#pragma once
// Binding a listening socket with an error a sysadmin can act on: it names the service, the address and the
// port, and when a port below 1024 is refused (EACCES) the capability that allows it, instead of a raw
// "bind: Permission denied".
#include <boost/system/error_code.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

namespace bootherd {

std::string bind_error_message(std::string_view service, const std::string& address, unsigned short port,
                               const boost::system::error_code& error);

// socket.bind(endpoint), throwing std::runtime_error(bind_error_message(...)) when it fails.
template <class Socket, class Endpoint>
void bind_or_explain(Socket& socket, const Endpoint& endpoint, std::string_view service) {
    boost::system::error_code error;
    socket.bind(endpoint, error);
    if (error)
        throw std::runtime_error(
            bind_error_message(service, endpoint.address().to_string(), endpoint.port(), error));
}

}  // namespace bootherd
