#include "target/iscsi/redirect.hpp"

#include "common/ip_address.hpp"

namespace bootherd::iscsi {

std::string target_address(const Redirect& redirect) {
    const boost::asio::ip::address address = unmapped(redirect.address);
    const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
    return host + ":" + std::to_string(redirect.port) + "," + std::to_string(redirect.portal_group_tag);
}

}  // namespace bootherd::iscsi
