#include <doctest/doctest.h>

#include <map>

#include "boot/boot_announcements.hpp"
#include "boot/script_binding.hpp"

using namespace bootherd::boot;

namespace {

MacAddress mac(const char* text) {
    return *MacAddress::parse(text);
}
boost::asio::ip::address ip(const char* text) {
    return boost::asio::ip::make_address(text);
}

// A neighbour table: address -> MAC.
struct Neighbours {
    std::map<std::string, MacAddress> entries;
    NeighbourLookup lookup() const {
        return [this](Ipv4 address) -> std::optional<MacAddress> {
            const auto found = entries.find(address.to_string());
            if (found == entries.end()) return std::nullopt;
            return found->second;
        };
    }
};

const MacAddress victim = mac("52:54:00:00:00:01");
const MacAddress attacker = mac("52:54:00:00:00:66");

}  // namespace

TEST_CASE("script binding, full DHCP: only the node's leased address") {
    Neighbours table;
    table.entries.emplace("10.0.0.5", victim);
    table.entries.emplace("10.0.0.9", attacker);
    const std::optional<Ipv4> lease = boost::asio::ip::make_address_v4("10.0.0.5");

    auto own = bind_script_client(DhcpMode::full, victim, ip("10.0.0.5"), lease, table.lookup());
    REQUIRE(own.bound);
    CHECK(own.bound->to_string() == "10.0.0.5");
    CHECK(bind_script_client(DhcpMode::full, victim, ip("::ffff:10.0.0.5"), lease, table.lookup()).bound);

    auto other = bind_script_client(DhcpMode::full, victim, ip("10.0.0.9"), lease, table.lookup());
    CHECK_FALSE(other.bound);
    CHECK(other.refusal.find("10.0.0.9") != std::string::npos);
    CHECK_FALSE(
        bind_script_client(DhcpMode::full, victim, ip("10.0.0.5"), std::nullopt, table.lookup()).bound);

    // The lease was taken with a forged client MAC: the neighbour table knows who really has the address.
    table.entries.insert_or_assign("10.0.0.5", attacker);
    CHECK_FALSE(bind_script_client(DhcpMode::full, victim, ip("10.0.0.5"), lease, table.lookup()).bound);

    // Behind a relay the neighbour table has no entry: the lease decides.
    table.entries.erase("10.0.0.5");
    CHECK(bind_script_client(DhcpMode::full, victim, ip("10.0.0.5"), lease, table.lookup()).bound);
    CHECK_FALSE(bind_script_client(DhcpMode::full, victim, ip("fe80::1"), lease, table.lookup()).bound);
}

TEST_CASE("script binding, ProxyDHCP: the address the neighbour table ties to the MAC") {
    Neighbours table;
    table.entries.emplace("10.0.0.5", victim);
    table.entries.emplace("10.0.0.9", attacker);
    auto own = bind_script_client(DhcpMode::proxy, victim, ip("10.0.0.5"), std::nullopt, table.lookup());
    REQUIRE(own.bound);
    CHECK(own.bound->to_string() == "10.0.0.5");
    CHECK_FALSE(
        bind_script_client(DhcpMode::proxy, victim, ip("10.0.0.9"), std::nullopt, table.lookup()).bound);
    CHECK_FALSE(
        bind_script_client(DhcpMode::proxy, victim, ip("10.0.0.7"), std::nullopt, table.lookup()).bound);
}

namespace {
struct Recorder final : BootEventSink {
    int seen = 0;
    void record(const MacAddress&, std::string_view, std::string_view,
                std::chrono::system_clock::time_point) override {
        ++seen;
    }
};
}  // namespace

TEST_CASE("boot announcements: a PXE offer or ack with a boot file, taken once, expiring") {
    Recorder log;
    BootAnnouncements announcements(log, std::chrono::minutes(2));
    const auto t0 = std::chrono::system_clock::now();

    announcements.record(victim, "dhcp request", "", t0);
    announcements.record(victim, "dhcp ack", "10.0.0.5 ", t0);  // an OS renewing its lease: no boot file
    announcements.record(victim, "dhcp ack", "inform", t0);
    CHECK(log.seen == 3);  // every event passes on
    CHECK_FALSE(announcements.take(victim, t0));

    announcements.record(victim, "dhcp ack", "10.0.0.5 undionly.kpxe", t0);
    CHECK(announcements.take(victim, t0 + std::chrono::seconds(3)));
    CHECK_FALSE(announcements.take(victim, t0 + std::chrono::seconds(4)));  // one boot per announcement

    announcements.record(attacker, "dhcp offer", "proxy boot file undionly.kpxe", t0);
    CHECK_FALSE(announcements.take(victim, t0));
    CHECK_FALSE(announcements.take(attacker, t0 + std::chrono::minutes(3)));  // too old
}
