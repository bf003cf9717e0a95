// Login redirection end to end: two servers on 127.0.0.1, A sending every normal login to B. Raw PDUs check
// the wire and that A keeps nothing; libiscsi, a real initiator, must end up reading B's disk through A's
// address.
#include <doctest/doctest.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>

#include "fake_device.hpp"
#include "loopback_server.hpp"
#include "target/iscsi/own_portal.hpp"

using namespace bootherd;
using namespace bootherd::iscsi;
using test::Client;
using test::Pdu;

namespace {

constexpr const char* kTarget = "iqn.2026-01.test:roaming";
constexpr const char* kInitiator = "iqn.2026-01.test:initiator";

// Both servers have the target, on disks filled with different bytes: what an initiator reads says which
// server it reached.
std::shared_ptr<StaticTargetDirectory> disk_filled_with(std::byte fill) {
    auto device = std::make_shared<test::FakeDevice>(64);
    std::fill(device->data().begin(), device->data().end(), fill);
    auto directory = std::make_shared<StaticTargetDirectory>();
    directory->add(TargetNode{kTarget, device, {}, {}, {}});
    return directory;
}

ServerOptions listening_on(const char* address) {
    ServerOptions options = test::loopback_options();
    options.listen = {{boost::asio::ip::make_address(address), 0}};
    return options;
}

ServerOptions redirecting_to(const boost::asio::ip::tcp::endpoint& home) {
    ServerOptions options = test::loopback_options();
    options.login_router = [home](std::string_view, std::string_view) {
        return std::optional<Redirect>(Redirect{home.address(), home.port(), 1});
    };
    return options;
}

// A on 127.0.0.1, B on `b_address`.
struct Pair {
    explicit Pair(const char* b_address = "127.0.0.1")
        : b(listening_on(b_address), disk_filled_with(std::byte{'B'})),
          a(redirecting_to(b.endpoint), disk_filled_with(std::byte{'A'})) {}

    test::LoopbackServer b;
    test::LoopbackServer a;
};

}  // namespace

TEST_CASE("redirect on the wire: 01/01, TargetAddress of B, then A closes and keeps nothing") {
    Pair servers;
    Client c(servers.a.endpoint);
    const Pdu reply = c.login(kInitiator, kTarget);
    CHECK(reply.opcode() == Opcode::login_response);
    CHECK(reply.bhs[36] == 1);
    CHECK(reply.bhs[37] == 1);
    CHECK((reply.flags() & 0x80) == 0);
    const auto keys = reply.keys();
    CHECK(keys.size() == 1);
    CHECK(keys.at("TargetAddress") == "127.0.0.1:" + std::to_string(servers.b.endpoint.port()) + ",1");
    // Whatever the initiator sends next, A has closed the connection.
    LoginRequest again;
    again.transit = true;
    again.next_stage = 1;
    again.isid = 0x400000000001ull;
    Bhs bhs;
    build(bhs, again, 0);
    boost::system::error_code ignored;
    boost::asio::write(c.socket(), boost::asio::buffer(bhs), ignored);
    CHECK(c.closed_by_peer());

    const ServerStats a = servers.a.server->stats();
    CHECK(a.redirects == 1);
    CHECK(a.logins == 0);
    CHECK(a.login_failures == 0);
    CHECK(a.sessions == 0);
    CHECK(servers.a.server->sessions().empty());
    CHECK(servers.b.server->stats().redirects == 0);

    // Discovery at A is never redirected.
    Client discovery(servers.a.endpoint);
    CHECK(discovery.login(kInitiator, "").bhs[36] == 0);
    CHECK(servers.a.server->stats().redirects == 1);
}

TEST_CASE("redirect: a router that names this server's own portal is refused, the login is served here") {
    struct Own {
        std::mutex mutex;
        boost::asio::ip::tcp::endpoint endpoint;
    };
    auto own = std::make_shared<Own>();
    ServerOptions options = test::loopback_options();
    options.login_router = [own](std::string_view, std::string_view) {
        const std::lock_guard lock(own->mutex);
        return std::optional<Redirect>(Redirect{own->endpoint.address(), own->endpoint.port(), 1});
    };
    test::LoopbackServer server(options, disk_filled_with(std::byte{'A'}));
    {
        const std::lock_guard lock(own->mutex);
        own->endpoint = server.endpoint;
    }
    Client c(server.endpoint);
    const Pdu reply = c.login(kInitiator, kTarget);
    CHECK(reply.bhs[36] == 0);
    CHECK((reply.flags() & 0x83) == 0x83);  // full feature phase
    CHECK(server.server->stats().redirects == 0);
    CHECK(server.server->stats().logins == 1);
}

TEST_CASE(
    "own portals: the arrival endpoint, a bound endpoint, or any local address of a wildcard listener") {
    namespace ip = boost::asio::ip;
    const auto to = [](const char* address, std::uint16_t port) {
        return Redirect{ip::make_address(address), port, 1};
    };
    const ip::tcp::endpoint arrival(ip::make_address("127.0.0.1"), 3260);
    const std::vector<ip::tcp::endpoint> specific{{ip::make_address("127.0.0.1"), 3260}};
    CHECK(is_own_portal(to("127.0.0.1", 3260), arrival, specific));
    CHECK(is_own_portal(to("::ffff:127.0.0.1", 3260), arrival, specific));
    CHECK_FALSE(is_own_portal(to("127.0.0.1", 3261), arrival, specific));
    CHECK_FALSE(is_own_portal(to("192.0.2.7", 3260), arrival, specific));

    const ip::tcp::endpoint elsewhere(ip::make_address("127.0.0.9"), 3260);
    const std::vector<ip::tcp::endpoint> wildcard{{ip::make_address("0.0.0.0"), 3260}};
    CHECK(is_own_portal(to("127.0.0.3", 3260), elsewhere, wildcard));        // any loopback address is ours
    CHECK_FALSE(is_own_portal(to("192.0.2.7", 3260), elsewhere, wildcard));  // TEST-NET-1: never assigned
    CHECK_FALSE(is_own_portal(to("127.0.0.3", 3261), elsewhere, wildcard));
    CHECK_FALSE(is_own_portal(to("::1", 3260), elsewhere, wildcard));  // a v4 wildcard does not take IPv6

    CHECK(is_local_address(ip::make_address("127.0.0.1")));
    CHECK(is_local_address(ip::make_address("::1")));
    CHECK_FALSE(is_local_address(ip::make_address("192.0.2.7")));
    CHECK_FALSE(is_local_address(ip::make_address("2001:db8::7")));
}

TEST_CASE("libiscsi follows A's redirect and reads B's disk") {
    const char* b_address = "127.0.0.1";
    SUBCASE("to an IPv4 portal") {}
    SUBCASE("to an IPv6 portal (TargetAddress in brackets)") {
        b_address = "::1";
    }
    Pair servers(b_address);
    iscsi_context* iscsi = iscsi_create_context(kInitiator);
    REQUIRE(iscsi != nullptr);
    iscsi_set_targetname(iscsi, kTarget);
    iscsi_set_session_type(iscsi, ISCSI_SESSION_NORMAL);
    iscsi_set_header_digest(iscsi, ISCSI_HEADER_DIGEST_NONE);
    const std::string portal_a = "127.0.0.1:" + std::to_string(servers.a.endpoint.port());
    const int connected = iscsi_full_connect_sync(iscsi, portal_a.c_str(), 0);
    CHECK_MESSAGE(connected == 0, iscsi_get_error(iscsi));
    if (connected == 0) {
        scsi_task* task = iscsi_read16_sync(iscsi, 0, 0, 2 * test::FakeDevice::kBlock,
                                            test::FakeDevice::kBlock, 0, 0, 0, 0, 0);
        REQUIRE(task != nullptr);
        CHECK(task->status == SCSI_STATUS_GOOD);
        REQUIRE(task->datain.size == 2 * static_cast<int>(test::FakeDevice::kBlock));
        CHECK(std::all_of(task->datain.data, task->datain.data + task->datain.size,
                          [](unsigned char byte) { return byte == 'B'; }));
        scsi_free_scsi_task(task);
        const auto on_b = servers.b.server->sessions();
        REQUIRE(on_b.size() == 1);
        CHECK(on_b[0].initiator_name == kInitiator);
        CHECK(on_b[0].target_iqn == kTarget);
        CHECK(iscsi_logout_sync(iscsi) == 0);
    }
    iscsi_destroy_context(iscsi);

    const ServerStats a = servers.a.server->stats();
    CHECK(a.redirects == 1);  // only the redirected login: no session, no command at A
    CHECK(a.logins == 0);
    CHECK(a.commands == 0);
    CHECK(servers.b.server->stats().logins == 1);
    CHECK(servers.b.server->stats().redirects == 0);
}
