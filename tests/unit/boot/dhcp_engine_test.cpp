#include <doctest/doctest.h>

#include "boot/dhcp_engine.hpp"
#include "common/bytes.hpp"
#include "dhcp_test_packets.hpp"
#include "fakes.hpp"

using namespace bootherd::boot;
using namespace bootherd::boot::testing;
using Kind = DhcpDestination::Kind;
using namespace std::chrono_literals;

namespace {

Ipv4 ip(std::uint8_t last) {
    return Ipv4({10, 0, 0, last});
}

DhcpConfig make_config(DhcpMode mode) {
    DhcpConfig config;
    config.mode = mode;
    config.server_address = ip(1);
    config.advertise_address = ip(1);
    config.http_port = 8080;
    config.pool_first = ip(100);
    config.pool_last = ip(102);
    config.subnet_mask = Ipv4({255, 255, 255, 0});
    config.router = ip(254);
    config.dns_servers = {ip(53), ip(54)};
    config.domain_name = "lab.example";
    return config;
}

struct Harness {
    FakeNodeDirectory directory;
    FakeLeaseStore leases;
    FakeEventSink events;
    std::optional<DhcpEngine> engine;
    DhcpEngine::Clock::time_point now = DhcpEngine::Clock::time_point(std::chrono::hours(24 * 365 * 50));

    explicit Harness(DhcpMode mode, bool discovery = false) : Harness(make_config(mode), discovery) {}
    Harness(DhcpConfig config, bool discovery) {
        config.discovery = discovery;
        for (std::uint8_t i = 1; i <= 9; ++i) {
            NodeRecord node;
            node.name = "pc" + std::to_string(i);
            directory.nodes[test_mac(i)] = node;
        }
        engine.emplace(config, directory, leases, events);
    }

    std::optional<DhcpReply> send(const DhcpPacket& request, DhcpPort port = DhcpPort::server,
                                  Ipv4 source = Ipv4::any()) {
        // Through the codec both ways, as the UDP server does.
        const auto parsed = parse_dhcp_packet(serialize_dhcp_packet(request));
        auto reply = engine->handle(parsed, {port, source}, now);
        if (reply) reply->packet = parse_dhcp_packet(serialize_dhcp_packet(reply->packet));
        return reply;
    }
};

DhcpPacket with_options(DhcpPacket packet, std::optional<Ipv4> requested, std::optional<Ipv4> server_id) {
    if (requested) packet.set_address_option(dhcp_option::requested_address, *requested);
    if (server_id) packet.set_address_option(dhcp_option::server_identifier, *server_id);
    return packet;
}

std::uint32_t u32_option(const DhcpPacket& packet, std::uint8_t code) {
    const auto& value = packet.options.at(code);
    REQUIRE(value.size() == 4);
    return bootherd::load_be<std::uint32_t>(value.data());
}

}  // namespace

TEST_CASE("dhcp proxy: BIOS and UEFI PXE clients get the matching iPXE build, no address") {
    Harness h(DhcpMode::proxy);
    auto reply = h.send(client_packet(DhcpMessageType::discover, test_mac(1), Firmware::bios_pxe));
    REQUIRE(reply);
    const auto& offer = reply->packet;
    CHECK(offer.op == bootp_reply);
    CHECK(offer.message_type() == DhcpMessageType::offer);
    CHECK(offer.xid == 0x1234abcd);
    CHECK(offer.client_mac() == test_mac(1));
    CHECK(offer.yiaddr.is_unspecified());
    CHECK(offer.siaddr == ip(1));
    CHECK(offer.file == "undionly.kpxe");
    CHECK(offer.vendor_class() == "PXEClient");
    CHECK(offer.address_option(dhcp_option::server_identifier) == ip(1));
    CHECK(parse_dhcp_suboptions(offer.options.at(dhcp_option::vendor_specific)).at(pxe_discovery_control) ==
          std::vector<std::uint8_t>{8});
    CHECK_FALSE(offer.has_option(dhcp_option::lease_time));
    CHECK_FALSE(offer.has_option(dhcp_option::subnet_mask));
    CHECK_FALSE(offer.has_option(dhcp_option::ipxe_encapsulated));
    CHECK(reply->destination == DhcpDestination{Kind::broadcast, Ipv4::broadcast()});
    CHECK(h.events.has("dhcp discover"));
    CHECK(h.events.has("dhcp offer"));

    reply = h.send(client_packet(DhcpMessageType::discover, test_mac(2), Firmware::uefi_pxe));
    REQUIRE(reply);
    CHECK(reply->packet.file == "ipxe.efi");
}

TEST_CASE("dhcp proxy: iPXE gets its script URL; custom URLs win") {
    Harness h(DhcpMode::proxy);
    auto reply = h.send(client_packet(DhcpMessageType::discover, test_mac(1), Firmware::ipxe));
    REQUIRE(reply);
    CHECK(reply->packet.file == "http://10.0.0.1:8080/boot/52:54:00:12:34:01.ipxe");
    const auto& name = reply->packet.options.at(dhcp_option::bootfile_name);
    CHECK(std::string(name.begin(), name.end()) == reply->packet.file);
    CHECK_FALSE(reply->packet.has_option(dhcp_option::vendor_specific));
    CHECK_FALSE(reply->packet.has_option(dhcp_option::ipxe_encapsulated));  // another server gives addresses

    h.directory.nodes[test_mac(2)].boot_script_url = "http://boot.example/custom.ipxe";
    reply = h.send(client_packet(DhcpMessageType::discover, test_mac(2), Firmware::ipxe));
    REQUIRE(reply);
    CHECK(reply->packet.file == "http://boot.example/custom.ipxe");
}

TEST_CASE("dhcp proxy: only DISCOVER on 67 and REQUEST on 4011 are answered") {
    Harness h(DhcpMode::proxy);
    auto request = client_packet(DhcpMessageType::request, test_mac(1), Firmware::bios_pxe);
    request.ciaddr = ip(77);
    CHECK_FALSE(h.send(request));
    const auto reply = h.send(request, DhcpPort::pxe_server, ip(77));
    REQUIRE(reply);
    CHECK(reply->packet.message_type() == DhcpMessageType::ack);
    CHECK(reply->packet.ciaddr == ip(77));
    CHECK(reply->packet.file == "undionly.kpxe");
    CHECK(reply->destination == DhcpDestination{Kind::request_source, ip(77)});
    CHECK_FALSE(h.send(client_packet(DhcpMessageType::discover, test_mac(1), Firmware::bios_pxe),
                       DhcpPort::pxe_server, ip(77)));
}

TEST_CASE("dhcp proxy: non-PXE, disabled, IA32 and unknown clients are ignored") {
    Harness h(DhcpMode::proxy);
    CHECK_FALSE(h.send(client_packet(DhcpMessageType::discover, test_mac(1), Firmware::plain_os)));
    h.directory.nodes[test_mac(2)].enabled = false;
    CHECK_FALSE(h.send(client_packet(DhcpMessageType::discover, test_mac(2), Firmware::bios_pxe)));
    auto ia32 = client_packet(DhcpMessageType::discover, test_mac(3), Firmware::uefi_pxe);
    ia32.set_option(dhcp_option::client_arch, {0, 6});
    CHECK_FALSE(h.send(ia32));
    CHECK_FALSE(h.send(client_packet(DhcpMessageType::discover, test_mac(0x42), Firmware::bios_pxe)));
    CHECK(h.directory.discovered.empty());
    auto server_message = client_packet(DhcpMessageType::discover, test_mac(1), Firmware::bios_pxe);
    server_message.op = bootp_reply;
    CHECK_FALSE(h.send(server_message));
    auto bootp = client_packet(DhcpMessageType::discover, test_mac(1), Firmware::bios_pxe);
    bootp.options.erase(dhcp_option::message_type);
    CHECK_FALSE(h.send(bootp));
}

TEST_CASE("dhcp discovery: unknown PXE clients are recorded and served when discovery is on") {
    Harness h(DhcpMode::proxy, true);
    auto reply = h.send(client_packet(DhcpMessageType::discover, test_mac(0x42), Firmware::uefi_pxe));
    REQUIRE(reply);
    CHECK(reply->packet.file == "ipxe.efi");
    REQUIRE(h.directory.discovered.size() == 1);
    CHECK(h.directory.discovered[0].mac == test_mac(0x42));
    CHECK(h.directory.discovered[0].client_arch == 7);
    CHECK(h.directory.discovered[0].vendor_class == "PXEClient:Arch:00007:UNDI:003016");
    reply = h.send(client_packet(DhcpMessageType::discover, test_mac(0x42), Firmware::ipxe));
    REQUIRE(reply);
    CHECK(reply->packet.file == "http://10.0.0.1:8080/boot/52:54:00:12:34:42.ipxe");
    // Unknown clients that are not PXE stay unanswered even with discovery on.
    CHECK_FALSE(h.send(client_packet(DhcpMessageType::discover, test_mac(0x43), Firmware::plain_os)));
    CHECK(h.directory.discovered.size() == 2);
}

TEST_CASE("dhcp full: DISCOVER, OFFER, REQUEST, ACK with all network options and no-pxedhcp for iPXE") {
    Harness h(DhcpMode::full);
    auto reply = h.send(client_packet(DhcpMessageType::discover, test_mac(1), Firmware::ipxe));
    REQUIRE(reply);
    const auto offer = reply->packet;
    CHECK(offer.message_type() == DhcpMessageType::offer);
    CHECK(offer.yiaddr == ip(100));
    CHECK(offer.address_option(dhcp_option::subnet_mask) == Ipv4({255, 255, 255, 0}));
    CHECK(offer.address_option(dhcp_option::router) == ip(254));
    CHECK(offer.options.at(dhcp_option::dns_servers) ==
          std::vector<std::uint8_t>{10, 0, 0, 53, 10, 0, 0, 54});
    const auto& domain = offer.options.at(dhcp_option::domain_name);
    CHECK(std::string(domain.begin(), domain.end()) == "lab.example");
    CHECK(u32_option(offer, dhcp_option::lease_time) == 3600);
    CHECK(u32_option(offer, dhcp_option::renewal_time) == 1800);
    CHECK(u32_option(offer, dhcp_option::rebinding_time) == 3150);
    CHECK(offer.file == "http://10.0.0.1:8080/boot/52:54:00:12:34:01.ipxe");
    CHECK(parse_dhcp_suboptions(offer.options.at(dhcp_option::ipxe_encapsulated)).at(ipxe_no_pxedhcp) ==
          std::vector<std::uint8_t>{1});
    CHECK(h.leases.leases.empty());  // offers are not persisted

    reply = h.send(
        with_options(client_packet(DhcpMessageType::request, test_mac(1), Firmware::ipxe), ip(100), ip(1)));
    REQUIRE(reply);
    CHECK(reply->packet.message_type() == DhcpMessageType::ack);
    CHECK(reply->packet.yiaddr == ip(100));
    CHECK(reply->destination.kind == Kind::broadcast);
    REQUIRE(h.leases.leases.size() == 1);
    const Lease& lease = h.leases.leases.begin()->second;
    CHECK(lease.address == ip(100));
    CHECK(lease.mac == test_mac(1));
    CHECK(lease.state == Lease::State::bound);
    CHECK(lease.expires == h.now + 3600s);
    CHECK(h.events.has("dhcp ack"));

    // The next client gets the next address; the first one keeps its own on a new DISCOVER.
    CHECK(h.send(client_packet(DhcpMessageType::discover, test_mac(2), Firmware::bios_pxe))->packet.yiaddr ==
          ip(101));
    CHECK(h.send(client_packet(DhcpMessageType::discover, test_mac(1), Firmware::ipxe))->packet.yiaddr ==
          ip(100));
}

TEST_CASE("dhcp full: PXE ROMs get boot files, other enrolled clients only an address") {
    Harness h(DhcpMode::full);
    auto reply = h.send(client_packet(DhcpMessageType::discover, test_mac(1), Firmware::uefi_pxe));
    REQUIRE(reply);
    CHECK(reply->packet.file == "ipxe.efi");
    CHECK(reply->packet.siaddr == ip(1));
    CHECK(reply->packet.vendor_class() == "PXEClient");
    CHECK_FALSE(reply->packet.has_option(dhcp_option::ipxe_encapsulated));
    reply = h.send(client_packet(DhcpMessageType::discover, test_mac(2), Firmware::plain_os));
    REQUIRE(reply);
    CHECK(reply->packet.yiaddr == ip(101));
    CHECK(reply->packet.file.empty());
    CHECK(reply->packet.siaddr.is_unspecified());
    CHECK_FALSE(reply->packet.has_option(dhcp_option::vendor_class));
}

TEST_CASE("dhcp full: a REQUEST for another server withdraws our offer; a wrong address is NAKed") {
    Harness h(DhcpMode::full);
    REQUIRE(
        h.send(client_packet(DhcpMessageType::discover, test_mac(1), Firmware::bios_pxe))->packet.yiaddr ==
        ip(100));
    CHECK_FALSE(h.send(with_options(client_packet(DhcpMessageType::request, test_mac(1), Firmware::bios_pxe),
                                    Ipv4({192, 168, 1, 5}), Ipv4({192, 168, 1, 1}))));
    CHECK(h.send(client_packet(DhcpMessageType::discover, test_mac(2), Firmware::bios_pxe))->packet.yiaddr ==
          ip(100));

    const auto nak = h.send(with_options(
        client_packet(DhcpMessageType::request, test_mac(3), Firmware::bios_pxe), ip(100), ip(1)));
    REQUIRE(nak);
    CHECK(nak->packet.message_type() == DhcpMessageType::nak);
    CHECK(nak->packet.yiaddr.is_unspecified());
    CHECK(nak->packet.file.empty());
    CHECK(nak->packet.has_option(dhcp_option::message));
    CHECK(nak->destination.kind == Kind::broadcast);
    CHECK(h.events.has("dhcp nak"));
}

TEST_CASE("dhcp full: fixed addresses are always used and never handed to others") {
    Harness h(DhcpMode::full);
    h.directory.nodes[test_mac(1)].fixed_address = ip(100);
    h.directory.nodes[test_mac(2)].fixed_address = ip(20);  // outside the pool is fine
    CHECK(h.send(client_packet(DhcpMessageType::discover, test_mac(3), Firmware::bios_pxe))->packet.yiaddr ==
          ip(101));
    CHECK(h.send(client_packet(DhcpMessageType::discover, test_mac(1), Firmware::bios_pxe))->packet.yiaddr ==
          ip(100));
    CHECK(h.send(client_packet(DhcpMessageType::discover, test_mac(2), Firmware::bios_pxe))->packet.yiaddr ==
          ip(20));
    auto ack = h.send(with_options(client_packet(DhcpMessageType::request, test_mac(2), Firmware::bios_pxe),
                                   ip(20), ip(1)));
    REQUIRE(ack);
    CHECK(ack->packet.message_type() == DhcpMessageType::ack);
    CHECK(h.leases.leases.empty());
    auto nak = h.send(with_options(client_packet(DhcpMessageType::request, test_mac(2), Firmware::bios_pxe),
                                   ip(102), ip(1)));
    REQUIRE(nak);
    CHECK(nak->packet.message_type() == DhcpMessageType::nak);
}

TEST_CASE("dhcp full: a machine's host name goes out as option 12 with its fixed address") {
    Harness h(DhcpMode::full);
    h.directory.nodes[test_mac(1)].fixed_address = ip(50);
    h.directory.nodes[test_mac(1)].hostname = "desk-1.lab";
    const auto host_name = [](const DhcpPacket& packet) {
        const auto& value = packet.options.at(dhcp_option::host_name);
        return std::string(value.begin(), value.end());
    };
    for (const auto firmware : {Firmware::bios_pxe, Firmware::ipxe, Firmware::plain_os}) {
        CAPTURE(static_cast<int>(firmware));
        const auto offer = h.send(client_packet(DhcpMessageType::discover, test_mac(1), firmware));
        REQUIRE(offer);
        CHECK(offer->packet.yiaddr == ip(50));
        REQUIRE(offer->packet.has_option(dhcp_option::host_name));
        CHECK(host_name(offer->packet) == "desk-1.lab");
        const auto ack = h.send(
            with_options(client_packet(DhcpMessageType::request, test_mac(1), firmware), ip(50), ip(1)));
        REQUIRE(ack);
        CHECK(ack->packet.message_type() == DhcpMessageType::ack);
        CHECK(ack->packet.yiaddr == ip(50));
        CHECK(host_name(ack->packet) == "desk-1.lab");
    }
    // A machine without a host name gets no option 12.
    const auto other = h.send(client_packet(DhcpMessageType::discover, test_mac(2), Firmware::ipxe));
    REQUIRE(other);
    CHECK_FALSE(other->packet.has_option(dhcp_option::host_name));
}

TEST_CASE("dhcp proxy: no option 12, the address and its identity belong to the real DHCP server") {
    Harness h(DhcpMode::proxy);
    h.directory.nodes[test_mac(1)].hostname = "desk-1";
    const auto offer = h.send(client_packet(DhcpMessageType::discover, test_mac(1), Firmware::bios_pxe));
    REQUIRE(offer);
    CHECK_FALSE(offer->packet.has_option(dhcp_option::host_name));
}

TEST_CASE("dhcp full: a fixed address off the served subnet or taken by the network is not handed out") {
    Harness h(DhcpMode::full);
    h.directory.nodes[test_mac(1)].fixed_address = Ipv4({192, 168, 7, 7});
    CHECK_FALSE(h.send(client_packet(DhcpMessageType::discover, test_mac(1), Firmware::bios_pxe)));
    CHECK(h.events.has("dhcp refused"));
    const auto nak =
        h.send(with_options(client_packet(DhcpMessageType::request, test_mac(1), Firmware::bios_pxe),
                            Ipv4({192, 168, 7, 7}), ip(1)));
    REQUIRE(nak);
    CHECK(nak->packet.message_type() == DhcpMessageType::nak);
    // Nor the subnet's network or broadcast address, the server's or the router's.
    for (const Ipv4& taken : {ip(0), ip(255), ip(1), ip(254)}) {
        CAPTURE(taken.to_string());
        h.directory.nodes[test_mac(1)].fixed_address = taken;
        CHECK_FALSE(h.send(client_packet(DhcpMessageType::discover, test_mac(1), Firmware::bios_pxe)));
    }
    h.directory.nodes[test_mac(1)].fixed_address = Ipv4({192, 168, 7, 7});
    // Through a relay the subnet is the relay's, which this server cannot judge: served.
    auto relayed = client_packet(DhcpMessageType::discover, test_mac(1), Firmware::bios_pxe);
    relayed.giaddr = Ipv4({192, 168, 7, 1});
    const auto offer = h.send(relayed);
    REQUIRE(offer);
    CHECK(offer->packet.yiaddr == Ipv4({192, 168, 7, 7}));
}

TEST_CASE("dhcp full: an address fixed while another client leases it waits for that lease to end") {
    Harness h(DhcpMode::full);
    h.send(client_packet(DhcpMessageType::discover, test_mac(3), Firmware::plain_os));
    REQUIRE(h.send(with_options(client_packet(DhcpMessageType::request, test_mac(3), Firmware::plain_os),
                                ip(100), ip(1)))
                ->packet.message_type() == DhcpMessageType::ack);
    // Now pc1 is given 10.0.0.100 as its fixed address.
    h.directory.nodes[test_mac(1)].fixed_address = ip(100);
    CHECK_FALSE(h.send(client_packet(DhcpMessageType::discover, test_mac(1), Firmware::bios_pxe)));
    CHECK(h.events.has("dhcp refused"));
    // pc3 renews: refused, and its lease ends at once...
    h.now += 1800s;
    auto renew = client_packet(DhcpMessageType::request, test_mac(3), Firmware::plain_os);
    renew.ciaddr = ip(100);
    const auto nak = h.send(renew, DhcpPort::server, ip(100));
    REQUIRE(nak);
    CHECK(nak->packet.message_type() == DhcpMessageType::nak);
    CHECK(h.leases.leases.empty());
    // ...so pc1 gets its address, and pc3 another one.
    const auto offer = h.send(client_packet(DhcpMessageType::discover, test_mac(1), Firmware::bios_pxe));
    REQUIRE(offer);
    CHECK(offer->packet.yiaddr == ip(100));
    const auto moved = h.send(client_packet(DhcpMessageType::discover, test_mac(3), Firmware::plain_os));
    REQUIRE(moved);
    CHECK(moved->packet.yiaddr == ip(101));
}

TEST_CASE("dhcp full: INIT-REBOOT, RENEWING and REBINDING") {
    Harness h(DhcpMode::full);
    h.send(client_packet(DhcpMessageType::discover, test_mac(1), Firmware::plain_os));
    REQUIRE(h.send(with_options(client_packet(DhcpMessageType::request, test_mac(1), Firmware::plain_os),
                                ip(100), ip(1))));

    SUBCASE("INIT-REBOOT with the known address is ACKed, another one NAKed") {
        auto ack = h.send(with_options(
            client_packet(DhcpMessageType::request, test_mac(1), Firmware::plain_os), ip(100), {}));
        REQUIRE(ack);
        CHECK(ack->packet.message_type() == DhcpMessageType::ack);
        h.send(
            client_packet(DhcpMessageType::discover, test_mac(2), Firmware::plain_os));  // 101 offered to pc2
        auto nak = h.send(with_options(
            client_packet(DhcpMessageType::request, test_mac(1), Firmware::plain_os), ip(101), {}));
        REQUIRE(nak);
        CHECK(nak->packet.message_type() == DhcpMessageType::nak);
    }
    SUBCASE("INIT-REBOOT on a foreign network is NAKed, an unknown client is not answered") {
        auto nak =
            h.send(with_options(client_packet(DhcpMessageType::request, test_mac(1), Firmware::plain_os),
                                Ipv4({192, 168, 0, 9}), {}));
        REQUIRE(nak);
        CHECK(nak->packet.message_type() == DhcpMessageType::nak);
        CHECK_FALSE(h.send(with_options(
            client_packet(DhcpMessageType::request, test_mac(5), Firmware::plain_os), ip(101), {})));
    }
    SUBCASE("RENEWING by ciaddr is answered by unicast and extends the lease") {
        h.now += 1800s;
        auto renew = client_packet(DhcpMessageType::request, test_mac(1), Firmware::plain_os);
        renew.flags = 0;
        renew.ciaddr = ip(100);
        const auto ack = h.send(renew, DhcpPort::server, ip(100));
        REQUIRE(ack);
        CHECK(ack->packet.message_type() == DhcpMessageType::ack);
        CHECK(ack->packet.ciaddr == ip(100));
        CHECK(ack->destination == DhcpDestination{Kind::client_address, ip(100)});
        CHECK(h.leases.leases.at(ip(100).to_uint()).expires == h.now + 3600s);
    }
    SUBCASE("REBINDING with an address held by someone else is NAKed") {
        auto rebind = client_packet(DhcpMessageType::request, test_mac(2), Firmware::plain_os);
        rebind.ciaddr = ip(100);
        const auto nak = h.send(rebind);
        REQUIRE(nak);
        CHECK(nak->packet.message_type() == DhcpMessageType::nak);
        CHECK(nak->destination.kind == Kind::broadcast);  // NAKs are broadcast even with ciaddr set
    }
    SUBCASE("an expired lease can go to another client") {
        h.now += 3601s;
        CHECK(h.send(client_packet(DhcpMessageType::discover, test_mac(2), Firmware::plain_os))
                  ->packet.yiaddr == ip(101));
        CHECK(h.send(client_packet(DhcpMessageType::discover, test_mac(3), Firmware::plain_os))
                  ->packet.yiaddr == ip(102));
        CHECK(h.send(client_packet(DhcpMessageType::discover, test_mac(4), Firmware::plain_os))
                  ->packet.yiaddr == ip(100));
    }
}

TEST_CASE("dhcp full: RELEASE frees the address, DECLINE marks it bad") {
    Harness h(DhcpMode::full);
    h.send(client_packet(DhcpMessageType::discover, test_mac(1), Firmware::plain_os));
    REQUIRE(h.send(with_options(client_packet(DhcpMessageType::request, test_mac(1), Firmware::plain_os),
                                ip(100), ip(1))));

    SUBCASE("RELEASE with a foreign server id is ignored, ours frees the lease") {
        auto release = client_packet(DhcpMessageType::release, test_mac(1), Firmware::plain_os);
        release.ciaddr = ip(100);
        CHECK_FALSE(h.send(with_options(release, {}, ip(9))));
        CHECK(h.leases.leases.size() == 1);
        CHECK_FALSE(h.send(with_options(release, {}, ip(1))));
        CHECK(h.leases.leases.empty());
        CHECK(h.events.has("dhcp release"));
        CHECK(h.send(client_packet(DhcpMessageType::discover, test_mac(2), Firmware::plain_os))
                  ->packet.yiaddr == ip(100));
    }
    SUBCASE("DECLINE keeps the address out of use, the client gets another one") {
        CHECK_FALSE(h.send(with_options(
            client_packet(DhcpMessageType::decline, test_mac(1), Firmware::plain_os), ip(100), ip(1))));
        REQUIRE(h.leases.leases.size() == 1);
        CHECK(h.leases.leases.at(ip(100).to_uint()).state == Lease::State::declined);
        CHECK(h.send(client_packet(DhcpMessageType::discover, test_mac(1), Firmware::plain_os))
                  ->packet.yiaddr == ip(101));
        CHECK(h.send(client_packet(DhcpMessageType::discover, test_mac(2), Firmware::plain_os))
                  ->packet.yiaddr == ip(102));
        CHECK_FALSE(
            h.send(client_packet(DhcpMessageType::discover, test_mac(3), Firmware::plain_os)));  // exhausted
        h.now += 3601s;  // decline_hold over
        CHECK(h.send(client_packet(DhcpMessageType::discover, test_mac(3), Firmware::plain_os))
                  ->packet.yiaddr == ip(100));
    }
}

TEST_CASE("dhcp full: INFORM gets configuration without an address or lease") {
    Harness h(DhcpMode::full);
    auto inform = client_packet(DhcpMessageType::inform, test_mac(1), Firmware::plain_os);
    inform.ciaddr = ip(33);
    const auto reply = h.send(inform, DhcpPort::server, ip(33));
    REQUIRE(reply);
    CHECK(reply->packet.message_type() == DhcpMessageType::ack);
    CHECK(reply->packet.yiaddr.is_unspecified());
    CHECK(reply->packet.has_option(dhcp_option::subnet_mask));
    CHECK_FALSE(reply->packet.has_option(dhcp_option::lease_time));
    CHECK(reply->destination == DhcpDestination{Kind::client_address, ip(33)});
}

TEST_CASE("dhcp full: relayed requests go back to the relay; relayed NAKs ask for broadcast") {
    Harness h(DhcpMode::full);
    auto discover = client_packet(DhcpMessageType::discover, test_mac(1), Firmware::bios_pxe);
    discover.flags = 0;
    discover.giaddr = ip(250);
    const auto offer = h.send(discover);
    REQUIRE(offer);
    CHECK(offer->packet.giaddr == ip(250));
    CHECK(offer->destination == DhcpDestination{Kind::relay_agent, ip(250)});
    auto bad = with_options(client_packet(DhcpMessageType::request, test_mac(2), Firmware::bios_pxe), ip(100),
                            ip(1));
    bad.flags = 0;
    bad.giaddr = ip(250);
    const auto nak = h.send(bad);
    REQUIRE(nak);
    CHECK(nak->packet.message_type() == DhcpMessageType::nak);
    CHECK(nak->packet.flags == broadcast_flag);
    CHECK(nak->destination == DhcpDestination{Kind::relay_agent, ip(250)});
}

TEST_CASE("dhcp full: leases survive a restart through the LeaseStore") {
    FakeLeaseStore persisted;
    {
        Harness h(DhcpMode::full);
        h.send(client_packet(DhcpMessageType::discover, test_mac(1), Firmware::plain_os));
        h.send(client_packet(DhcpMessageType::discover, test_mac(2), Firmware::plain_os));
        REQUIRE(h.send(with_options(client_packet(DhcpMessageType::request, test_mac(2), Firmware::plain_os),
                                    ip(101), ip(1))));
        persisted = h.leases;
    }
    Harness h(DhcpMode::full);
    h.leases = persisted;
    h.engine.emplace(make_config(DhcpMode::full), h.directory, h.leases, h.events);
    // pc3 must not get 101 (bound to pc2); pc2 gets 101 back.
    CHECK(h.send(client_packet(DhcpMessageType::discover, test_mac(3), Firmware::plain_os))->packet.yiaddr ==
          ip(100));
    CHECK(h.send(client_packet(DhcpMessageType::discover, test_mac(2), Firmware::plain_os))->packet.yiaddr ==
          ip(101));
}

namespace {

DhcpConfig flood_config(DhcpMode mode) {
    DhcpConfig config = make_config(mode);
    config.pool_first = ip(100);
    config.pool_last = ip(139);  // 40 addresses: 10 for unknown clients at 25 %
    config.unknown.new_per_second = 1000;
    config.unknown.burst = 1000;
    return config;
}

DhcpPacket unknown_discover(std::uint32_t n) {
    return client_packet(
        DhcpMessageType::discover,
        MacAddress{{2, 0, 0, 0, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)}},
        Firmware::bios_pxe);
}

}  // namespace

TEST_CASE("dhcp full: unknown clients get at most their share of the pool; enrolled ones always get theirs") {
    Harness h(flood_config(DhcpMode::full), true);
    std::size_t offered = 0;
    for (std::uint32_t n = 0; n < 55; ++n)
        if (h.send(unknown_discover(n))) ++offered;
    CHECK(offered == 10);
    // Every enrolled machine still gets an offer, and it is not one of the unknown clients' addresses.
    for (std::uint8_t i = 1; i <= 9; ++i) {
        const auto reply = h.send(client_packet(DhcpMessageType::discover, test_mac(i), Firmware::bios_pxe));
        REQUIRE(reply);
        CHECK(reply->packet.yiaddr.to_uint() >= ip(110).to_uint());
    }
    // An unknown client that already holds an offer keeps getting it.
    const auto again = h.send(unknown_discover(3));
    REQUIRE(again);
    CHECK(again->packet.yiaddr == ip(103));

    SUBCASE("unanswered offers to unknown clients are reclaimed after their short hold") {
        h.now += 14s;
        CHECK_FALSE(h.send(unknown_discover(100)));
        h.now += 2s;  // 16 s: past the 15 s hold, long before the 60 s of enrolled machines
        CHECK(h.send(unknown_discover(100)));
    }
    SUBCASE("a REQUEST without an offer does not get around the share") {
        auto request = with_options(
            client_packet(DhcpMessageType::request, test_mac(0x77), Firmware::bios_pxe), ip(130), ip(1));
        h.directory.nodes.erase(test_mac(0x77));
        const auto reply = h.send(request);
        REQUIRE(reply);
        CHECK(reply->packet.message_type() == DhcpMessageType::nak);
        CHECK(h.leases.leases.empty());
    }
}

TEST_CASE("dhcp full: an enrolled machine's expired lease is never handed to an unknown client") {
    DhcpConfig config = flood_config(DhcpMode::full);
    config.pool_last = ip(100);  // one address
    config.unknown.pool_share_percent = 100;
    Harness h(config, true);
    REQUIRE(h.send(with_options(client_packet(DhcpMessageType::request, test_mac(1), Firmware::plain_os),
                                ip(100), ip(1))));
    h.now += 2h;  // lease expired
    CHECK_FALSE(h.send(unknown_discover(1)));
    CHECK(h.send(client_packet(DhcpMessageType::discover, test_mac(2), Firmware::plain_os))->packet.yiaddr ==
          ip(100));
}

TEST_CASE("dhcp full: DECLINE is taken only from the address's holder") {
    Harness h(flood_config(DhcpMode::full), true);
    REQUIRE(h.send(with_options(client_packet(DhcpMessageType::request, test_mac(1), Firmware::plain_os),
                                ip(100), ip(1))));
    // A stranger (or spoofer) declining addresses it does not hold changes nothing.
    for (std::uint8_t last = 100; last < 140; ++last)
        CHECK_FALSE(h.send(with_options(
            client_packet(DhcpMessageType::decline, test_mac(2), Firmware::plain_os), ip(last), ip(1))));
    REQUIRE(h.leases.leases.size() == 1);
    CHECK(h.leases.leases.at(ip(100).to_uint()).state == Lease::State::bound);
    CHECK(h.send(client_packet(DhcpMessageType::discover, test_mac(2), Firmware::plain_os))->packet.yiaddr ==
          ip(101));
}

TEST_CASE("dhcp discovery: new unknown MACs are taken on at a bounded rate, known ones are not limited") {
    DhcpConfig config = flood_config(DhcpMode::proxy);
    config.unknown.new_per_second = 10;
    config.unknown.burst = 20;
    Harness h(config, true);
    std::size_t answered = 0;
    for (std::uint32_t n = 0; n < 500; ++n)
        if (h.send(unknown_discover(n))) ++answered;
    CHECK(answered == 20);
    CHECK(h.directory.discovered.size() == 20);
    // An unknown MAC taken on keeps being served; enrolled machines never wait for tokens.
    CHECK(h.send(unknown_discover(0)));
    for (int i = 0; i < 50; ++i)
        CHECK(h.send(client_packet(DhcpMessageType::discover, test_mac(1), Firmware::bios_pxe)));
    h.now += 1s;
    answered = 0;
    for (std::uint32_t n = 1000; n < 1500; ++n)
        if (h.send(unknown_discover(n))) ++answered;
    CHECK(answered == 10);
}

TEST_CASE("dhcp discovery: unknown clients' events are coalesced per MAC and capped overall") {
    DhcpConfig config = flood_config(DhcpMode::proxy);
    config.unknown.events_per_second = 5;
    config.unknown.event_burst = 10;
    config.unknown.event_interval = 60s;
    Harness h(config, true);
    for (int i = 0; i < 5; ++i)
        REQUIRE(h.send(unknown_discover(1)));
    CHECK(h.events.count() == 1);  // one event per MAC per interval, not discover + offer five times
    for (std::uint32_t n = 2; n < 100; ++n)
        h.send(unknown_discover(n));
    CHECK(h.events.count() == 10);  // the overall burst
    h.now += 61s;
    REQUIRE(h.send(unknown_discover(1)));
    CHECK(h.events.count() == 11);
    // Enrolled machines' events are all kept.
    const auto before = h.events.count();
    h.send(client_packet(DhcpMessageType::discover, test_mac(1), Firmware::bios_pxe));
    CHECK(h.events.count() == before + 2);
}

TEST_CASE("dhcp full: configuration is validated") {
    FakeNodeDirectory directory;
    FakeLeaseStore leases;
    FakeEventSink events;
    auto config = make_config(DhcpMode::full);
    config.pool_first = Ipv4({192, 168, 0, 10});
    CHECK_THROWS_AS(DhcpEngine(config, directory, leases, events), std::invalid_argument);
    config = make_config(DhcpMode::full);
    config.pool_first = ip(200);
    CHECK_THROWS_AS(DhcpEngine(config, directory, leases, events), std::invalid_argument);
}
