#pragma once
// The DHCP/ProxyDHCP protocol logic (RFC 2131 server side, PXE proxy behaviour): a decoded request, where it
// came from and the current time in, at most one reply and its destination out. Side effects go through the
// NodeDirectory, the AddressPool (and so the LeaseStore) and the BootEventSink. No sockets here.
#include <chrono>
#include <memory>
#include <optional>

#include "boot/address_pool.hpp"
#include "boot/boot_event_sink.hpp"
#include "boot/dhcp_config.hpp"
#include "boot/dhcp_packet.hpp"
#include "boot/lease_store.hpp"
#include "boot/node_directory.hpp"
#include "boot/recent_macs.hpp"
#include "boot/token_bucket.hpp"
#include "common/rate_limited_log.hpp"

namespace bootherd::boot {

enum class DhcpPort {
    server,      // UDP 67
    pxe_server,  // UDP 4011, PXE boot server / ProxyDHCP requests
};

// Where a reply goes (RFC 2131 §4.1); the UDP layer maps these to ports.
struct DhcpDestination {
    enum class Kind {
        broadcast,       // 255.255.255.255, client port
        client_address,  // `address`, client port
        relay_agent,     // `address` (giaddr), server port
        request_source,  // back to the source address and port of the request
    };
    Kind kind = Kind::broadcast;
    Ipv4 address;
    bool operator==(const DhcpDestination&) const = default;
};

struct DhcpReply {
    DhcpPacket packet;
    DhcpDestination destination;
};

struct DhcpRequestOrigin {
    DhcpPort port = DhcpPort::server;
    Ipv4 source_address;
};

class DhcpEngine {
  public:
    using Clock = std::chrono::system_clock;

    // Throws std::invalid_argument for an inconsistent configuration (full mode without a valid pool).
    DhcpEngine(DhcpConfig config, NodeDirectory& directory, LeaseStore& leases, BootEventSink& events);

    std::optional<DhcpReply> handle(const DhcpPacket& request, const DhcpRequestOrigin& origin,
                                    Clock::time_point now);

    const DhcpConfig& config() const { return config_; }

  private:
    struct Client;

    // Unknown clients are served only at a bounded rate of new MACs.
    bool admit_unknown(const MacAddress& mac, Clock::time_point now);
    Holder holder_of(const Client& client) const;

    std::optional<DhcpReply> handle_proxy(const DhcpPacket& request, const Client& client,
                                          DhcpMessageType type, const DhcpRequestOrigin& origin,
                                          Clock::time_point now);
    std::optional<DhcpReply> handle_full(const DhcpPacket& request, const Client& client,
                                         DhcpMessageType type, const DhcpRequestOrigin& origin,
                                         Clock::time_point now);
    std::optional<DhcpReply> full_discover(const DhcpPacket& request, const Client& client,
                                           Clock::time_point now);
    std::optional<DhcpReply> full_request(const DhcpPacket& request, const Client& client,
                                          Clock::time_point now);
    std::optional<Ipv4> address_for(const DhcpPacket& request, const Client& client,
                                    Clock::time_point now) const;
    bool valid_for_client(Ipv4 address, const Client& client, Clock::time_point now) const;
    // Why the client's fixed address cannot be handed out now (not on the served subnet, or still held in
    // the pool by another client); nullopt when it can.
    std::optional<std::string> fixed_address_refusal(const DhcpPacket& request, const Client& client,
                                                     Clock::time_point now) const;

    DhcpPacket reply_skeleton(const DhcpPacket& request, DhcpMessageType type) const;
    // Adds siaddr/file/66/67 and PXE options; returns false when the client cannot be booted.
    bool add_boot_information(DhcpPacket& reply, const DhcpPacket& request, const Client& client) const;
    // Subnet, router, DNS, domain, lease times; the client's host name (option 12) when it has one.
    void add_network_options(DhcpPacket& reply, const Client& client, bool with_lease) const;
    DhcpReply make_nak(const DhcpPacket& request, const Client& client, std::string_view why,
                       Clock::time_point now);
    DhcpDestination destination_for(const DhcpPacket& request, const DhcpPacket& reply,
                                    const DhcpRequestOrigin& origin) const;
    // Unknown clients' events are coalesced (one per MAC per interval) and capped overall.
    void record(const Client& client, std::string_view step, std::string_view detail, Clock::time_point now);

    DhcpConfig config_;
    NodeDirectory& directory_;
    BootEventSink& events_;
    std::optional<AddressPool> pool_;  // full mode only
    TokenBucket<Clock> unknown_admission_;
    RecentMacs<Clock> unknown_admitted_;
    TokenBucket<Clock> unknown_event_budget_;
    RecentMacs<Clock> unknown_recorded_;
    RateLimitedLog refusal_log_{5, std::chrono::seconds(10)};
};

}  // namespace bootherd::boot
