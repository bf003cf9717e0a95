// Server features beyond the data path: statistics, session events, NOP-In pings, logins that do not hold a
// network thread, and sessions sharing the disk pool.
#include <doctest/doctest.h>
#include <poll.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <numeric>
#include <thread>

#include "fake_device.hpp"
#include "loopback_server.hpp"

using namespace bootherd;
using namespace bootherd::iscsi;
using namespace std::chrono_literals;
using test::Client;
using test::loopback_options;
using test::Pdu;

namespace {

constexpr const char* kDisk = "iqn.2026-01.test:disk";
constexpr const char* kOther = "iqn.2026-01.test:other";
constexpr const char* kInitiator = "iqn.2026-01.test:initiator";

// Two 64-block disks; the directory holding them unless the test brings its own.
struct Disks {
    std::shared_ptr<test::FakeDevice> disk = std::make_shared<test::FakeDevice>(64);
    std::shared_ptr<test::FakeDevice> other = std::make_shared<test::FakeDevice>(64);

    std::shared_ptr<TargetDirectory> directory() const {
        auto directory = std::make_shared<StaticTargetDirectory>();
        directory->add(TargetNode{kDisk, disk, {}, {}, {}});
        directory->add(TargetNode{kOther, other, {}, {}, {}});
        return directory;
    }
};

// Disks is the first base so that the disks exist before the server (bases are built in order).
struct Harness : Disks, test::LoopbackServer {
    explicit Harness(ServerOptions options, std::shared_ptr<TargetDirectory> dir = nullptr)
        : LoopbackServer(std::move(options), dir ? std::move(dir) : directory()) {}
};

void send_command(Client& c, std::uint8_t opcode, std::uint32_t lba, std::uint16_t blocks,
                  std::span<const std::uint8_t> immediate_data = {}) {
    c.send(test::scsi_command(c, opcode, lba, blocks, std::uint32_t{blocks} * test::FakeDevice::kBlock, false,
                              static_cast<std::uint32_t>(immediate_data.size())),
           immediate_data);
}

// Receives PDUs until a status (SCSI Response, or Data-In with the S bit); NOP-In pings are skipped.
Pdu receive_status(Client& c) {
    for (;;) {
        Pdu p = c.receive();
        if (p.opcode() == Opcode::scsi_response) return p;
        if (p.opcode() == Opcode::data_in && (p.flags() & 0x01)) return p;
    }
}

void logout(Client& c) {
    LogoutRequest l;
    l.immediate = true;
    l.initiator_task_tag = c.next_itt++;
    l.cmd_sn = c.cmd_sn;
    Bhs bhs;
    build(bhs, l);
    c.send(bhs);
    REQUIRE(c.receive().opcode() == Opcode::logout_response);
    CHECK(c.closed_by_peer());
}

template <class Predicate>
bool eventually(Predicate done) {
    for (int i = 0; i < 300 && !done(); ++i)
        std::this_thread::sleep_for(10ms);
    return done();
}

// A directory whose find() blocks until opened, like a catalog query on a slow disk.
class GatedDirectory final : public TargetDirectory {
  public:
    explicit GatedDirectory(std::shared_ptr<scsi::TargetDevice> device) {
        inner_.add(TargetNode{kDisk, std::move(device), {}, {}, {}});
    }
    std::shared_ptr<const TargetNode> find(std::string_view iqn) const override {
        std::unique_lock lock(mutex_);
        ++blocked_;
        changed_.notify_all();
        changed_.wait(lock, [&] { return open_; });
        --blocked_;
        return inner_.find(iqn);
    }
    std::vector<std::shared_ptr<const TargetNode>> all() const override { return inner_.all(); }

    void close() {
        const std::lock_guard lock(mutex_);
        open_ = false;
    }
    void open() {
        const std::lock_guard lock(mutex_);
        open_ = true;
        changed_.notify_all();
    }
    bool wait_blocked() {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, 5s, [&] { return blocked_ > 0; });
    }

  private:
    StaticTargetDirectory inner_;
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    mutable int blocked_ = 0;
    bool open_ = true;
};

}  // namespace

TEST_CASE("stats count logins, failures, bytes, commands and their latency") {
    Harness h(loopback_options());
    {
        Client bad(h.endpoint);
        CHECK(bad.login(kInitiator, "iqn.2026-01.test:nowhere").bhs[36] == 2);
    }
    Client c(h.endpoint);
    REQUIRE(c.login(kInitiator, kDisk, 0x400000000001ull, {{"ImmediateData", "Yes"}}).bhs[36] == 0);
    CHECK(h.server->stats().sessions == 1);

    std::vector<std::uint8_t> block(2 * test::FakeDevice::kBlock, 0x5a);
    send_command(c, 0x2a, 3, 2, block);
    CHECK(receive_status(c).bhs[3] == 0);
    send_command(c, 0x28, 3, 2);
    CHECK(receive_status(c).bhs[3] == 0);
    send_command(c, 0x28, 0, 1);
    CHECK(receive_status(c).bhs[3] == 0);

    // Data-In bytes and completions are counted when their send completes, which may be just after the
    // client has read the status.
    CHECK(eventually([&] {
        const ServerStats t = h.server->stats();
        return t.bytes_read == block.size() + test::FakeDevice::kBlock && t.commands == 3;
    }));
    const ServerStats s = h.server->stats();
    CHECK(s.logins == 1);
    CHECK(s.login_failures == 1);
    CHECK(s.bytes_written == block.size());
    CHECK(s.bytes_read == block.size() + test::FakeDevice::kBlock);
    CHECK(s.commands == 3);
    CHECK(std::accumulate(s.latency_buckets.begin(), s.latency_buckets.end(), std::uint64_t{0}) == 3);
    CHECK(s.latency_sum_us < 3'000'000);

    logout(c);
    CHECK(eventually([&] { return h.server->stats().sessions == 0; }));
    CHECK(h.server->stats().logins == 1);
}

TEST_CASE("session events: login, first READ once, logout; none for discovery") {
    std::mutex mutex;
    std::vector<SessionEvent> events;
    ServerOptions options = loopback_options();
    options.on_session_event = [&](const SessionEvent& e) {
        const std::lock_guard lock(mutex);
        events.push_back(e);
    };
    Harness h(std::move(options));
    {
        Client discovery(h.endpoint);
        REQUIRE(discovery.login(kInitiator, "").bhs[36] == 0);
        logout(discovery);
    }
    Client c(h.endpoint);
    REQUIRE(c.login(kInitiator, kDisk).bhs[36] == 0);
    send_command(c, 0x00, 0, 0);  // TEST UNIT READY is not a read
    receive_status(c);
    send_command(c, 0x28, 0, 1);
    receive_status(c);
    send_command(c, 0x28, 1, 1);
    receive_status(c);
    logout(c);
    REQUIRE(eventually([&] {
        const std::lock_guard lock(mutex);
        return events.size() >= 3;
    }));
    std::this_thread::sleep_for(50ms);  // nothing more may come
    const std::lock_guard lock(mutex);
    REQUIRE(events.size() == 3);
    CHECK(events[0].kind == SessionEvent::Kind::login);
    CHECK(events[1].kind == SessionEvent::Kind::first_read);
    CHECK(events[2].kind == SessionEvent::Kind::logout);
    for (const auto& e : events) {
        CHECK(e.initiator_name == kInitiator);
        CHECK(e.target_iqn == kDisk);
        CHECK(e.peer.rfind("127.0.0.1:", 0) == 0);
    }
}

TEST_CASE("idle sessions get NOP-In pings; an unanswered ping does not drop the connection") {
    ServerOptions options = loopback_options();
    options.nop_in_interval = 1s;
    Harness h(std::move(options));

    Client answering(h.endpoint);
    REQUIRE(answering.login(kInitiator, kDisk, 0x400000000001ull).bhs[36] == 0);
    Client silent(h.endpoint);
    REQUIRE(silent.login(kInitiator, kDisk, 0x400000000002ull).bhs[36] == 0);

    for (int round = 0; round < 2; ++round) {
        const Pdu ping = answering.receive();
        REQUIRE(ping.opcode() == Opcode::nop_in);
        CHECK(ping.itt() == kReservedTag);
        CHECK(ping.u32(20) != kReservedTag);  // Target Transfer Tag: an answer is wanted
        NopOut answer;
        answer.immediate = true;
        answer.target_transfer_tag = ping.u32(20);
        answer.cmd_sn = answering.cmd_sn;
        Bhs bhs;
        build(bhs, answer, 0);
        answering.send(bhs);
    }
    // The silent one has had pings too (two or three by now) and must still be served.
    int pings = 0;
    for (; pings < 2; ++pings)
        REQUIRE(silent.receive().opcode() == Opcode::nop_in);
    send_command(silent, 0x28, 0, 1);
    CHECK(receive_status(silent).bhs[3] == 0);
    send_command(answering, 0x28, 0, 1);
    CHECK(receive_status(answering).bhs[3] == 0);
}

TEST_CASE("a target lookup that blocks does not hold up other sessions on the network thread") {
    auto device = std::make_shared<test::FakeDevice>(64);
    auto directory = std::make_shared<GatedDirectory>(device);
    ServerOptions options = loopback_options();
    options.network_threads = 1;
    Harness h(std::move(options), directory);
    Client running(h.endpoint);
    REQUIRE(running.login(kInitiator, kDisk, 0x400000000001ull).bhs[36] == 0);

    directory->close();
    std::thread slow_login([&] {
        Client c(h.endpoint);
        // The receive timeout is 5 s, the gate opens well before.
        CHECK(c.login(kInitiator, kDisk, 0x400000000002ull).bhs[36] == 0);
    });
    REQUIRE(directory->wait_blocked());
    send_command(running, 0x28, 0, 1);  // the only network thread is free: served while find() is blocked
    CHECK(receive_status(running).bhs[3] == 0);
    directory->open();
    slow_login.join();
}

TEST_CASE("one session's queued disk work cannot take every disk thread") {
    for (const unsigned per_session : {1u, 2u}) {
        CAPTURE(per_session);
        ServerOptions options = loopback_options();
        options.disk_threads = 2;
        options.disk_tasks_per_session = per_session;
        Harness h(std::move(options));
        Client busy(h.endpoint);
        REQUIRE(busy.login(kInitiator, kDisk, 0x400000000001ull).bhs[36] == 0);
        Client other(h.endpoint);
        REQUIRE(other.login(kInitiator, kOther, 0x400000000002ull).bhs[36] == 0);

        h.disk->hold();
        for (int i = 0; i < 12; ++i)
            send_command(busy, 0x28, static_cast<std::uint32_t>(i), 1);
        h.disk->wait_until_waiting(static_cast<int>(per_session));
        std::this_thread::sleep_for(50ms);  // let the busy session take whatever it can
        send_command(other, 0x28, 0, 1);
        pollfd readable{other.socket().native_handle(), POLLIN, 0};
        const bool served = ::poll(&readable, 1, 500) == 1;
        // With a cap of one task per session a disk thread stays free for the other session; with two, the
        // busy session's backlog occupies both threads (this is what the cap prevents).
        CHECK(served == (per_session == 1));
        h.disk->release();
        CHECK(receive_status(other).bhs[3] == 0);
        for (int i = 0; i < 12; ++i)
            CHECK(receive_status(busy).bhs[3] == 0);
    }
}
