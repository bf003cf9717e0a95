// The server's resource bounds end to end: sessions per target (a rebooted machine's login replaces its own
// stale sessions), connections per address, the initiator-address ACL and a session's buffer memory.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "fake_device.hpp"
#include "loopback_server.hpp"

using namespace bootherd;
using namespace bootherd::iscsi;
using namespace std::chrono_literals;
using test::Client;
using test::Pdu;
using test::scsi_command;

namespace {

constexpr const char* kDisk = "iqn.2026-01.test:disk";
constexpr const char* kFenced = "iqn.2026-01.test:fenced";
constexpr const char* kInitiator = "iqn.2026-01.test:initiator";

const auto kFirst = boost::asio::ip::make_address("127.0.0.1");
const auto kSecond = boost::asio::ip::make_address("127.0.0.2");

// kDisk: open, a 1 MiB disk. kFenced: only initiators at 127.0.0.2 (given IPv4-mapped) may reach it.
std::shared_ptr<StaticTargetDirectory> directory() {
    auto d = std::make_shared<StaticTargetDirectory>();
    d->add(TargetNode{kDisk, std::make_shared<test::FakeDevice>(2048), {}, {}, {}});
    TargetNode fenced{kFenced, std::make_shared<test::FakeDevice>(8), {}, {}, {}};
    fenced.allowed_addresses.push_back(boost::asio::ip::make_address("::ffff:127.0.0.2"));
    d->add(std::move(fenced));
    return d;
}

struct TestServer : test::LoopbackServer {
    explicit TestServer(ServerOptions options) : LoopbackServer(std::move(options), directory()) {}
};

std::uint16_t login_status(const Pdu& p) {
    return static_cast<std::uint16_t>(p.bhs[36] << 8 | p.bhs[37]);
}

bool alive(Client& c) {
    NopOut n;
    n.immediate = true;
    n.initiator_task_tag = c.next_itt++;
    n.cmd_sn = c.cmd_sn;
    Bhs bhs;
    build(bhs, n, 0);
    try {
        c.send(bhs);
        return c.receive().opcode() == Opcode::nop_in;
    } catch (const std::exception&) {
        return false;
    }
}

std::string send_targets(Client& c) {
    TextRequest t;
    t.immediate = true;
    t.initiator_task_tag = c.next_itt++;
    t.cmd_sn = c.cmd_sn;
    std::string text;
    append_pair(text, "SendTargets", "All");
    Bhs bhs;
    build(bhs, t, static_cast<std::uint32_t>(text.size()));
    c.send(bhs, Client::as_span(text));
    const Pdu reply = c.receive();
    return {reply.data.begin(), reply.data.end()};
}

}  // namespace

TEST_CASE(
    "sessions per target: beyond the cap another address is refused, the same address replaces its oldest") {
    ServerOptions options = test::loopback_options();
    options.max_sessions_per_target = 2;
    TestServer s(options);

    // A machine's firmware and OS sessions, both left open when it powers off.
    Client firmware(s.endpoint, kFirst);
    REQUIRE(login_status(firmware.login(kInitiator, kDisk, 0x400000000001ull)) == 0);
    Client os(s.endpoint, kFirst);
    REQUIRE(login_status(os.login(kInitiator, kDisk, 0x400000000002ull)) == 0);

    // Another machine: no place left, Out of resources (03/02).
    Client other(s.endpoint, kSecond);
    CHECK(login_status(other.login("iqn.2026-01.test:other", kDisk, 0x400000000003ull)) == 0x0302);

    // The first machine boots again with a new ISID: it gets in, its oldest session goes.
    Client reboot(s.endpoint, kFirst);
    REQUIRE(login_status(reboot.login(kInitiator, kDisk, 0x400000000004ull)) == 0);
    CHECK(firmware.closed_by_peer());
    CHECK(alive(os));
    CHECK(alive(reboot));

    // Reinstatement (same name and ISID) replaces that very session, whatever the cap.
    Client reinstated(s.endpoint, kFirst);
    REQUIRE(login_status(reinstated.login(kInitiator, kDisk, 0x400000000002ull)) == 0);
    CHECK(os.closed_by_peer());
    CHECK(alive(reboot));
    CHECK(alive(reinstated));

    // Discovery sessions take no place.
    Client discovery(s.endpoint, kSecond);
    CHECK(login_status(discovery.login("iqn.2026-01.test:other", "")) == 0);
}

TEST_CASE("connections per address: a new one replaces the oldest still in login, else it is refused") {
    ServerOptions options = test::loopback_options();
    options.max_connections_per_address = 3;
    TestServer s(options);

    // Three idle sockets from one address, then a real login from it: the oldest idle socket makes room.
    std::vector<std::unique_ptr<Client>> idle;
    for (int i = 0; i < 3; ++i)
        idle.push_back(std::make_unique<Client>(s.endpoint, kSecond));
    std::this_thread::sleep_for(100ms);  // accepted in order
    Client late(s.endpoint, kSecond);
    CHECK(idle[0]->closed_by_peer());
    CHECK(login_status(late.login(kInitiator, "", 0x400000000001ull)) == 0);

    // Logged-in connections are never displaced: once they fill the cap, a new connection is closed.
    CHECK(login_status(idle[1]->login(kInitiator, "", 0x400000000002ull)) == 0);
    CHECK(login_status(idle[2]->login(kInitiator, "", 0x400000000003ull)) == 0);
    Client refused(s.endpoint, kSecond);
    CHECK(refused.closed_by_peer());
    CHECK(alive(late));

    // Another address is not affected.
    Client first(s.endpoint, kFirst);
    CHECK(login_status(first.login(kInitiator, kDisk)) == 0);
}

TEST_CASE(
    "address ACL: refused with 02/02 from elsewhere, hidden from discovery, IPv4-mapped compares as IPv4") {
    TestServer s(test::loopback_options());

    Client outsider(s.endpoint, kFirst);
    CHECK(login_status(outsider.login(kInitiator, kFenced)) == 0x0202);

    Client insider(s.endpoint, kSecond);
    CHECK(login_status(insider.login(kInitiator, kFenced)) == 0);

    Client discover_outside(s.endpoint, kFirst);
    REQUIRE(login_status(discover_outside.login(kInitiator, "")) == 0);
    const std::string outside = send_targets(discover_outside);
    CHECK(outside.find(kDisk) != std::string::npos);
    CHECK(outside.find(kFenced) == std::string::npos);

    Client discover_inside(s.endpoint, kSecond);
    REQUIRE(login_status(discover_inside.login(kInitiator, "")) == 0);
    CHECK(send_targets(discover_inside).find(kFenced) != std::string::npos);
}

TEST_CASE("TargetNode::allows_address") {
    TargetNode node;
    CHECK(node.allows_address(boost::asio::ip::make_address("192.0.2.7")));  // empty: anyone
    node.allowed_addresses = {boost::asio::ip::make_address("192.0.2.7"),
                              boost::asio::ip::make_address("2001:db8::7")};
    CHECK(node.allows_address(boost::asio::ip::make_address("192.0.2.7")));
    CHECK(node.allows_address(boost::asio::ip::make_address("::ffff:192.0.2.7")));
    CHECK(node.allows_address(boost::asio::ip::make_address("2001:db8::7")));
    CHECK_FALSE(node.allows_address(boost::asio::ip::make_address("192.0.2.8")));
    CHECK_FALSE(node.allows_address(boost::asio::ip::make_address("::ffff:192.0.2.8")));
    CHECK_FALSE(node.allows_address(boost::asio::ip::make_address("2001:db8::8")));
}

TEST_CASE("session buffers: an initiator that never reads stops being served, and resumes when it reads") {
    ServerOptions options = test::loopback_options();
    options.queue_depth = 64;
    options.max_session_buffer_bytes = 2u << 20;
    TestServer s(options);
    Client c(s.endpoint);
    c.socket().set_option(boost::asio::socket_base::receive_buffer_size(64 * 1024));
    REQUIRE(login_status(c.login(kInitiator, kDisk, 0x400000000001ull,
                                 {{"MaxRecvDataSegmentLength", "262144"}, {"MaxBurstLength", "1048576"}})) ==
            0);

    // 48 reads of the whole 1 MiB disk, 48 MiB of Data-In, and not a byte read back for a while.
    constexpr int kReads = 48;
    for (int i = 0; i < kReads; ++i)
        c.send(scsi_command(c, 0x28, 0, 2048, 2048 * 512));
    std::this_thread::sleep_for(1s);
    const auto stalled = s.server->stats().commands;
    MESSAGE("commands completed while the initiator did not read: ", stalled);
    // What the socket buffers absorb (a few MiB on loopback) plus the session's 2 MiB: far from all of it.
    CHECK(stalled < kReads / 2);

    // Reading resumes the session: every read completes with its data.
    for (int i = 0; i < kReads; ++i) {
        std::size_t bytes = 0;
        for (;;) {
            const Pdu p = c.receive();
            if (p.opcode() != Opcode::data_in) {
                FAIL("unexpected PDU");
                break;
            }
            bytes += p.data.size();
            if (p.flags() & 0x01) {
                CHECK(p.bhs[3] == 0);  // GOOD, in the last Data-In
                break;
            }
        }
        CHECK(bytes == 2048 * 512);
    }
    CHECK(s.server->stats().commands == kReads);
}
