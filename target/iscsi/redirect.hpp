#pragma once
// Login redirection (RFC 7143 §11.13.5, status 01/01 "target moved temporarily"): a server that does not home
// a machine answers its login with the portal of the server that does, and the initiator logs in there.
#include <boost/asio/ip/address.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace bootherd::iscsi {

struct Redirect {
    boost::asio::ip::address address;  // the portal the initiator should log in to instead
    std::uint16_t port = 3260;
    std::uint16_t portal_group_tag = 1;  // that portal's TargetPortalGroupTag

    friend bool operator==(const Redirect&, const Redirect&) = default;
};

// Asked once per normal-session login, as soon as the first Login Request has named the initiator and the
// target: before the target is looked up and before authentication, so a redirect reveals only an address.
// Discovery sessions never ask. nullopt: serve the login here. Runs on a disk-pool thread while the login
// waits, so it must answer from memory and must not block. A redirect to one of this server's own portals is
// refused (the login is served here instead): initiators follow redirects without a limit.
using LoginRouter =
    std::function<std::optional<Redirect>(std::string_view initiator_name, std::string_view target_name)>;

// The TargetAddress value (RFC 7143 §13.8): "<ip>:<port>,<tag>", an IPv6 address in brackets, an IPv4-mapped
// IPv6 address as the IPv4 address it carries.
std::string target_address(const Redirect& redirect);

// A portal written "<ip>:<port>" or "[<ipv6>]:<port>" (as in the catalog's servers.iscsi_portal) as a
// Redirect with the given tag; nullopt unless it is an IP literal with a port in 1..65535.
std::optional<Redirect> parse_portal(std::string_view portal, std::uint16_t portal_group_tag = 1);

}  // namespace bootherd::iscsi
