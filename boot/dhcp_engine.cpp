#include "boot/dhcp_engine.hpp"

#include <algorithm>
#include <stdexcept>

#include "common/log.hpp"

namespace bootherd::boot {

struct DhcpEngine::Client {
    MacAddress mac;
    std::optional<NodeRecord> node;  // nullopt: not enrolled, served because discovery is on
    std::string script_url;
};

namespace {

std::uint32_t seconds_of(std::chrono::seconds s) {
    return static_cast<std::uint32_t>(s.count());
}

bool on_same_subnet(Ipv4 a, Ipv4 b, Ipv4 mask) {
    return (a.to_uint() & mask.to_uint()) == (b.to_uint() & mask.to_uint());
}

// Bounds the memory of per-MAC limits; far above what the token buckets let in within their windows.
constexpr std::size_t max_remembered_macs = 4096;

std::size_t unknown_share(const DhcpConfig& config) {
    const std::uint64_t size = std::uint64_t{config.pool_last.to_uint()} - config.pool_first.to_uint() + 1;
    // Rounded up, so a small pool with a non-zero share still serves one unknown client.
    return static_cast<std::size_t>((size * std::min(config.unknown.pool_share_percent, 100U) + 99) / 100);
}

}  // namespace

DhcpEngine::DhcpEngine(DhcpConfig config, NodeDirectory& directory, LeaseStore& leases, BootEventSink& events)
    : config_(std::move(config)),
      directory_(directory),
      events_(events),
      unknown_admission_(config_.unknown.new_per_second, config_.unknown.burst),
      unknown_admitted_(max_remembered_macs, config_.unknown.remembered),
      unknown_event_budget_(config_.unknown.events_per_second, config_.unknown.event_burst),
      unknown_recorded_(max_remembered_macs, config_.unknown.event_interval) {
    if (config_.mode == DhcpMode::full) {
        if (config_.pool_first.is_unspecified() || config_.subnet_mask.is_unspecified())
            throw std::invalid_argument("full DHCP mode needs an address pool and a subnet mask");
        if (!on_same_subnet(config_.pool_first, config_.server_address, config_.subnet_mask) ||
            !on_same_subnet(config_.pool_last, config_.server_address, config_.subnet_mask))
            throw std::invalid_argument("DHCP pool is not on the server's subnet");
        pool_.emplace(config_.pool_first, config_.pool_last, leases, unknown_share(config_));
    }
}

std::optional<DhcpReply> DhcpEngine::handle(const DhcpPacket& request, const DhcpRequestOrigin& origin,
                                            Clock::time_point now) {
    if (request.op != bootp_request || !request.is_ethernet()) return std::nullopt;
    const auto type = request.message_type();
    if (!type) {
        log::debug("dhcp: ignoring BOOTP request without DHCP message type from ",
                   request.client_mac().to_string());
        return std::nullopt;
    }
    Client client{request.client_mac(), directory_.find(request.client_mac()), {}};
    if (client.node && !client.node->enabled) {
        log::info("dhcp: ignoring ", to_string(*type), " from disabled node ", client.node->name);
        return std::nullopt;
    }
    if (!client.node) {
        if (!config_.discovery || !is_pxe_client(request)) {
            log::debug("dhcp: ignoring ", to_string(*type), " from unknown client ", client.mac.to_string());
            return std::nullopt;
        }
        if (!admit_unknown(client.mac, now)) {
            refusal_log_.warn("dhcp: too many new unknown clients, ignoring " + client.mac.to_string(),
                              RateLimitedLog::Clock::now());
            return std::nullopt;
        }
        if (*type == DhcpMessageType::discover) {
            log::debug("dhcp: discovered PXE client ", client.mac.to_string(), " (", request.vendor_class(),
                       ")");
            // The directory coalesces repeated sightings of one MAC.
            directory_.record_discovered(
                DiscoveredClient{client.mac, request.client_arch(), request.vendor_class()});
        }
    }
    client.script_url = client.node && !client.node->boot_script_url.empty()
                            ? client.node->boot_script_url
                            : default_script_url(config_.advertise_address, config_.http_port, client.mac);

    if (origin.port == DhcpPort::pxe_server || config_.mode == DhcpMode::proxy)
        return handle_proxy(request, client, *type, origin, now);
    return handle_full(request, client, *type, origin, now);
}

bool DhcpEngine::admit_unknown(const MacAddress& mac, Clock::time_point now) {
    if (unknown_admitted_.contains(mac, now)) return true;
    return unknown_admission_.take(now) && unknown_admitted_.note(mac, now);
}

Holder DhcpEngine::holder_of(const Client& client) const {
    return client.node ? Holder::enrolled : Holder::unknown;
}

std::optional<DhcpReply> DhcpEngine::handle_proxy(const DhcpPacket& request, const Client& client,
                                                  DhcpMessageType type, const DhcpRequestOrigin& origin,
                                                  Clock::time_point now) {
    if (!is_pxe_client(request)) return std::nullopt;
    DhcpMessageType reply_type;
    if (origin.port == DhcpPort::server && type == DhcpMessageType::discover) {
        reply_type = DhcpMessageType::offer;
    } else if (origin.port == DhcpPort::pxe_server &&
               (type == DhcpMessageType::request || type == DhcpMessageType::inform)) {
        reply_type = DhcpMessageType::ack;
    } else {
        return std::nullopt;  // address traffic belongs to the real DHCP server
    }
    record(client, type == DhcpMessageType::discover ? "dhcp discover" : "dhcp request", "proxy", now);
    DhcpReply reply{reply_skeleton(request, reply_type), {}};
    reply.packet.ciaddr = request.ciaddr;
    if (!add_boot_information(reply.packet, request, client)) return std::nullopt;
    reply.destination = destination_for(request, reply.packet, origin);
    record(client, reply_type == DhcpMessageType::offer ? "dhcp offer" : "dhcp ack",
           "proxy boot file " + reply.packet.file, now);
    return reply;
}

std::optional<DhcpReply> DhcpEngine::handle_full(const DhcpPacket& request, const Client& client,
                                                 DhcpMessageType type, const DhcpRequestOrigin& origin,
                                                 Clock::time_point now) {
    const auto server_id = request.address_option(dhcp_option::server_identifier);
    switch (type) {
        case DhcpMessageType::discover: {
            record(client, "dhcp discover", request.vendor_class(), now);
            auto reply = full_discover(request, client, now);
            if (reply) reply->destination = destination_for(request, reply->packet, origin);
            return reply;
        }
        case DhcpMessageType::request: {
            record(client, "dhcp request", {}, now);
            auto reply = full_request(request, client, now);
            if (reply) reply->destination = destination_for(request, reply->packet, origin);
            return reply;
        }
        case DhcpMessageType::decline: {
            const auto address = request.address_option(dhcp_option::requested_address);
            if (server_id != config_.server_address || !address) return std::nullopt;
            // Only the holder may decline an address: spoofed DECLINEs must not take the pool out of use.
            if (!pool_->is_held_by(*address, client.mac, now)) return std::nullopt;
            log::warn("dhcp: ", client.mac.to_string(), " declined ", address->to_string(),
                      " (address in use by another host); not handing it out for ",
                      config_.decline_hold.count(), " s");
            pool_->decline(*address, client.mac, holder_of(client), now + config_.decline_hold);
            record(client, "dhcp decline", address->to_string(), now);
            return std::nullopt;
        }
        case DhcpMessageType::release:
            if (server_id != config_.server_address) return std::nullopt;
            pool_->release(client.mac);
            record(client, "dhcp release", request.ciaddr.to_string(), now);
            return std::nullopt;
        case DhcpMessageType::inform: {
            record(client, "dhcp inform", request.ciaddr.to_string(), now);
            DhcpReply reply{reply_skeleton(request, DhcpMessageType::ack), {}};
            reply.packet.ciaddr = request.ciaddr;
            add_network_options(reply.packet, client, false);
            if (is_pxe_client(request) || is_ipxe_client(request))
                add_boot_information(reply.packet, request, client);
            reply.destination = destination_for(request, reply.packet, origin);
            record(client, "dhcp ack", "inform", now);
            return reply;
        }
        case DhcpMessageType::offer:
        case DhcpMessageType::ack:
        case DhcpMessageType::nak:
            return std::nullopt;  // server messages, not ours to answer
    }
    return std::nullopt;
}

std::optional<DhcpReply> DhcpEngine::full_discover(const DhcpPacket& request, const Client& client,
                                                   Clock::time_point now) {
    if (const auto refusal = fixed_address_refusal(request, client, now)) {
        refusal_log_.warn("dhcp: no offer to node " + client.node->name + ": " + *refusal,
                          RateLimitedLog::Clock::now());
        record(client, "dhcp refused", *refusal, now);
        return std::nullopt;
    }
    const auto address = address_for(request, client, now);
    if (!address) {
        refusal_log_.warn("dhcp: no free address in the pool for " + client.mac.to_string() +
                              (client.node ? "" : " (unknown clients' share in use)"),
                          RateLimitedLog::Clock::now());
        return std::nullopt;
    }
    if (pool_->contains(*address) && !(client.node && client.node->fixed_address))
        pool_->offer(*address, client.mac, holder_of(client),
                     now + (client.node ? config_.offer_hold : config_.unknown.offer_hold));
    DhcpReply reply{reply_skeleton(request, DhcpMessageType::offer), {}};
    reply.packet.yiaddr = *address;
    add_network_options(reply.packet, client, true);
    if (is_pxe_client(request) || is_ipxe_client(request))
        add_boot_information(reply.packet, request, client);
    record(client, "dhcp offer", address->to_string() + " " + reply.packet.file, now);
    return reply;
}

std::optional<DhcpReply> DhcpEngine::full_request(const DhcpPacket& request, const Client& client,
                                                  Clock::time_point now) {
    const auto server_id = request.address_option(dhcp_option::server_identifier);
    const auto requested = request.address_option(dhcp_option::requested_address);
    const bool has_fixed = client.node && client.node->fixed_address;
    Ipv4 address;
    if (server_id) {
        // SELECTING: the client answers one of the offers it received.
        if (*server_id != config_.server_address) {
            if (!has_fixed) pool_->release(client.mac);
            return std::nullopt;
        }
        if (!requested) return make_nak(request, client, "requested address missing", now);
        address = *requested;
    } else if (requested) {
        // INIT-REBOOT: the client verifies an address it remembers.
        if (!on_same_subnet(*requested, config_.server_address, config_.subnet_mask))
            return make_nak(request, client, "requested address is on the wrong network", now);
        if (!has_fixed && !pool_->address_of(client.mac, now)) return std::nullopt;  // no record: stay silent
        address = *requested;
    } else if (!request.ciaddr.is_unspecified()) {
        address = request.ciaddr;  // RENEWING (unicast) or REBINDING (broadcast)
    } else {
        log::debug("dhcp: DHCPREQUEST from ", client.mac.to_string(), " names no address");
        return std::nullopt;
    }
    if (const auto refusal = fixed_address_refusal(request, client, now))
        return make_nak(request, client, *refusal, now);
    if (!has_fixed && pool_->contains(address) && directory_.is_fixed_address(address)) {
        // The address became another machine's fixed one: this client's lease on it ends now, so that
        // machine gets it at once.
        pool_->release(client.mac);
        return make_nak(request, client, "address " + address.to_string() + " is now reserved", now);
    }
    if (!valid_for_client(address, client, now))
        return make_nak(request, client, "address " + address.to_string() + " is not available to you", now);
    if (!has_fixed) pool_->bind(address, client.mac, holder_of(client), now + config_.lease_time);
    DhcpReply reply{reply_skeleton(request, DhcpMessageType::ack), {}};
    reply.packet.ciaddr = request.ciaddr;
    reply.packet.yiaddr = address;
    add_network_options(reply.packet, client, true);
    if (is_pxe_client(request) || is_ipxe_client(request))
        add_boot_information(reply.packet, request, client);
    record(client, "dhcp ack", address.to_string() + " " + reply.packet.file, now);
    return reply;
}

std::optional<Ipv4> DhcpEngine::address_for(const DhcpPacket& request, const Client& client,
                                            Clock::time_point now) const {
    if (client.node && client.node->fixed_address) return client.node->fixed_address;
    if (const auto previous = pool_->address_of(client.mac, now);
        previous && valid_for_client(*previous, client, now))
        return previous;
    if (const auto requested = request.address_option(dhcp_option::requested_address);
        requested && valid_for_client(*requested, client, now))
        return requested;
    return pool_->find_free(client.mac, holder_of(client), now,
                            [this](Ipv4 a) { return directory_.is_fixed_address(a); });
}

bool DhcpEngine::valid_for_client(Ipv4 address, const Client& client, Clock::time_point now) const {
    if (client.node && client.node->fixed_address) return address == *client.node->fixed_address;
    return pool_->available_to(address, client.mac, holder_of(client), now) &&
           !directory_.is_fixed_address(address);
}

std::optional<std::string> DhcpEngine::fixed_address_refusal(const DhcpPacket& request, const Client& client,
                                                             Clock::time_point now) const {
    if (!client.node || !client.node->fixed_address) return std::nullopt;
    const Ipv4 fixed = *client.node->fixed_address;
    // A relayed request comes from another subnet, whose mask this server does not know.
    if (request.giaddr.is_unspecified()) {
        if (!on_same_subnet(fixed, config_.server_address, config_.subnet_mask))
            return "fixed address " + fixed.to_string() + " is not on the served subnet";
        const std::uint32_t host_bits = ~config_.subnet_mask.to_uint();
        const std::uint32_t host = fixed.to_uint() & host_bits;
        if (host == 0 || host == host_bits)
            return "fixed address " + fixed.to_string() + " is the subnet's network or broadcast address";
    }
    if (fixed == config_.server_address || (config_.router && fixed == *config_.router))
        return "fixed address " + fixed.to_string() + " is this server's or the router's";
    if (pool_->contains(fixed) && !pool_->available_to(fixed, client.mac, Holder::enrolled, now))
        return "fixed address " + fixed.to_string() +
               " is still leased to another client (it is refused that address at its next renewal)";
    return std::nullopt;
}

DhcpPacket DhcpEngine::reply_skeleton(const DhcpPacket& request, DhcpMessageType type) const {
    DhcpPacket reply;
    reply.op = bootp_reply;
    reply.htype = request.htype;
    reply.hlen = request.hlen;
    reply.xid = request.xid;
    reply.flags = request.flags;
    reply.giaddr = request.giaddr;
    reply.chaddr = request.chaddr;
    reply.set_option(dhcp_option::message_type, {static_cast<std::uint8_t>(type)});
    reply.set_address_option(dhcp_option::server_identifier, config_.server_address);
    // RFC 2131 §4.3.1: echo the client identifier when the client sent one.
    if (const auto it = request.options.find(dhcp_option::client_identifier); it != request.options.end())
        reply.set_option(dhcp_option::client_identifier, it->second);
    return reply;
}

bool DhcpEngine::add_boot_information(DhcpPacket& reply, const DhcpPacket& request,
                                      const Client& client) const {
    const BootFileDecision decision = choose_boot_file(request, config_.boot_files, client.script_url);
    if (!decision.file) {
        log::warn("dhcp: cannot boot ", client.mac.to_string(), ": ", decision.reason);
        return false;
    }
    reply.siaddr = config_.server_address;
    // PXE ROMs read only the file field; iPXE prefers option 67. Send both when the name fits the field.
    if (decision.file->size() < 128) reply.file = *decision.file;
    reply.set_string_option(dhcp_option::bootfile_name, *decision.file);
    reply.set_string_option(dhcp_option::tftp_server_name, config_.server_address.to_string());
    if (is_pxe_client(request)) reply.set_string_option(dhcp_option::vendor_class, "PXEClient");
    if (decision.is_ipxe_script) {
        // Tell iPXE not to wait for ProxyDHCP offers when we are the only DHCP server.
        if (config_.mode == DhcpMode::full)
            reply.set_option(dhcp_option::ipxe_encapsulated,
                             encode_dhcp_suboptions({{ipxe_no_pxedhcp, {1}}}));
    } else if (is_pxe_client(request)) {
        // PXE discovery control bit 3: boot the file named in this offer, no boot server discovery or menu.
        auto vendor = encode_dhcp_suboptions({{pxe_discovery_control, {8}}});
        vendor.push_back(dhcp_option::end);
        reply.set_option(dhcp_option::vendor_specific, std::move(vendor));
    }
    return true;
}

void DhcpEngine::add_network_options(DhcpPacket& reply, const Client& client, bool with_lease) const {
    reply.set_address_option(dhcp_option::subnet_mask, config_.subnet_mask);
    if (config_.router) reply.set_address_option(dhcp_option::router, *config_.router);
    if (!config_.dns_servers.empty()) {
        std::vector<std::uint8_t> value;
        for (const Ipv4& server : config_.dns_servers) {
            const auto bytes = server.to_bytes();
            value.insert(value.end(), bytes.begin(), bytes.end());
        }
        reply.set_option(dhcp_option::dns_servers, std::move(value));
    }
    if (!config_.domain_name.empty()) reply.set_string_option(dhcp_option::domain_name, config_.domain_name);
    if (client.node && !client.node->hostname.empty())
        reply.set_string_option(dhcp_option::host_name, client.node->hostname);
    if (with_lease) {
        const std::uint32_t lease = seconds_of(config_.lease_time);
        reply.set_u32_option(dhcp_option::lease_time, lease);
        reply.set_u32_option(dhcp_option::renewal_time, lease / 2);
        reply.set_u32_option(dhcp_option::rebinding_time, static_cast<std::uint32_t>(lease * 7ULL / 8));
    }
}

DhcpReply DhcpEngine::make_nak(const DhcpPacket& request, const Client& client, std::string_view why,
                               Clock::time_point now) {
    log::info("dhcp: DHCPNAK to ", client.mac.to_string(), ": ", why);
    DhcpReply reply{reply_skeleton(request, DhcpMessageType::nak), {}};
    reply.packet.set_string_option(dhcp_option::message, why);
    // RFC 2131 §4.3.2: a NAK relayed through giaddr asks the relay to broadcast it.
    if (!request.giaddr.is_unspecified()) reply.packet.flags |= broadcast_flag;
    record(client, "dhcp nak", why, now);
    return reply;
}

DhcpDestination DhcpEngine::destination_for(const DhcpPacket& request, const DhcpPacket& reply,
                                            const DhcpRequestOrigin& origin) const {
    using Kind = DhcpDestination::Kind;
    if (origin.port == DhcpPort::pxe_server) return {Kind::request_source, origin.source_address};
    if (!request.giaddr.is_unspecified()) return {Kind::relay_agent, request.giaddr};
    if (reply.message_type() == DhcpMessageType::nak) return {Kind::broadcast, Ipv4::broadcast()};
    if (!request.ciaddr.is_unspecified()) return {Kind::client_address, request.ciaddr};
    // The remaining case of §4.1 (unicast to yiaddr/chaddr of a client without an address) needs an ARP entry
    // injected for chaddr; broadcasting is always correct, merely noisier.
    return {Kind::broadcast, Ipv4::broadcast()};
}

void DhcpEngine::record(const Client& client, std::string_view step, std::string_view detail,
                        Clock::time_point now) {
    if (!client.node) {
        if (unknown_recorded_.contains(client.mac, now) || !unknown_event_budget_.take(now) ||
            !unknown_recorded_.note(client.mac, now))
            return;
    }
    events_.record(client.mac, step, detail, now);
}

}  // namespace bootherd::boot
