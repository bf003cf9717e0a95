#include <doctest/doctest.h>

#include <chrono>
#include <numeric>
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

constexpr const char* kOpen = "iqn.2026-01.test:disk";
constexpr const char* kPrivate = "iqn.2026-01.test:private";
constexpr const char* kInitiator = "iqn.2026-01.test:initiator";

// An open target with a 2048-block disk, and a private one only another initiator may reach.
std::shared_ptr<StaticTargetDirectory> targets(const std::shared_ptr<test::FakeDevice>& device) {
    auto directory = std::make_shared<StaticTargetDirectory>();
    directory->add(TargetNode{kOpen, device, {}, {}, {}});
    directory->add(
        TargetNode{kPrivate, std::make_shared<test::FakeDevice>(8), {"iqn.2026-01.test:other"}, {}, {}});
    return directory;
}

ServerOptions options_with(std::chrono::seconds login_timeout, unsigned disk_threads) {
    ServerOptions options = test::loopback_options();
    options.login_timeout = login_timeout;
    options.disk_threads = disk_threads;
    return options;
}

// A base of its own so that the disk exists before the server that serves it (bases are built in order).
struct OpenDisk {
    std::shared_ptr<test::FakeDevice> device = std::make_shared<test::FakeDevice>(2048);
};

struct Harness : OpenDisk, test::LoopbackServer {
    explicit Harness(std::chrono::seconds login_timeout = 15s, unsigned disk_threads = 2)
        : LoopbackServer(options_with(login_timeout, disk_threads), targets(device)) {}
};

// Reads Data-In until the status; returns the data and the PDU carrying the status.
std::vector<std::uint8_t> read_data(Client& c, Pdu& status, std::uint32_t* pdus = nullptr) {
    std::vector<std::uint8_t> data;
    std::uint32_t count = 0;
    for (;;) {
        Pdu p = c.receive();
        if (p.opcode() == Opcode::data_in) {
            CHECK(p.u32(40) == data.size());  // in order
            CHECK(p.u32(36) == count);        // DataSN
            ++count;
            data.insert(data.end(), p.data.begin(), p.data.end());
            if (p.flags() & 0x01) {
                status = p;
                break;
            }
        } else {
            status = p;
            break;
        }
    }
    if (pdus) *pdus = count;
    return data;
}

Pdu nop(Client& c, const std::string& payload = {}) {
    NopOut n;
    n.immediate = true;
    n.initiator_task_tag = c.next_itt++;
    n.cmd_sn = c.cmd_sn;
    Bhs bhs;
    build(bhs, n, static_cast<std::uint32_t>(payload.size()));
    c.send(bhs, Client::as_span(payload));
    return c.receive();
}

// Writes `data` at `lba` the way iPXE does: wait for each R2T and answer with 512-byte Data-Out PDUs.
// `data_sn_of` can corrupt the DataSN the n-th PDU of a sequence carries.
Pdu write_blocks(
    Client& c, std::uint32_t lba, const std::vector<std::uint8_t>& data,
    std::uint32_t (*data_sn_of)(std::uint32_t) = [](std::uint32_t n) { return n; }) {
    const Bhs cmd = scsi_command(c, 0x2a, lba, static_cast<std::uint16_t>(data.size() / 512),
                                 static_cast<std::uint32_t>(data.size()));
    const std::uint32_t itt = load_be<std::uint32_t>(cmd.data() + 16);
    c.send(cmd);
    for (;;) {
        Pdu p = c.receive();
        if (p.opcode() != Opcode::r2t) return p;
        const std::uint32_t ttt = p.u32(20);
        const std::uint32_t offset = p.u32(40);
        const std::uint32_t length = p.u32(44);
        for (std::uint32_t done = 0, sn = 0; done < length; done += 512, ++sn) {
            DataOut d;
            d.initiator_task_tag = itt;
            d.target_transfer_tag = ttt;
            d.data_sn = data_sn_of(sn);
            d.buffer_offset = offset + done;
            d.final_bit = done + 512 == length;
            Bhs bhs;
            build(bhs, d, 512);
            c.send(bhs, std::span(data).subspan(offset + done, 512));
        }
    }
}

}  // namespace

TEST_CASE("discovery lists only the targets this initiator may reach, at the arrival portal") {
    Harness h;
    Client c(h.endpoint);
    const Pdu login = c.login(kInitiator, "");
    REQUIRE(login.bhs[36] == 0);
    CHECK((login.flags() & 0x80) != 0);
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
    REQUIRE(reply.opcode() == Opcode::text_response);
    const std::string body(reply.data.begin(), reply.data.end());
    CHECK(body.find(std::string("TargetName=") + kOpen) != std::string::npos);
    CHECK(body.find(kPrivate) == std::string::npos);
    CHECK(body.find("TargetAddress=127.0.0.1:" + std::to_string(h.endpoint.port()) + ",1") !=
          std::string::npos);

    // A SCSI command has no place in a discovery session.
    c.send(scsi_command(c, 0x00, 0, 0, 0, true));
    CHECK(c.receive().opcode() == Opcode::reject);
}

TEST_CASE("iPXE-style session: read capacity, R2T writes, split reads, residuals, sense") {
    Harness h;
    Client c(h.endpoint);
    const Pdu login = c.login(kInitiator, kOpen, 0x400000000001ull,
                              {{"HeaderDigest", "None"},
                               {"DataDigest", "None"},
                               {"InitialR2T", "Yes"},
                               {"ImmediateData", "No"},
                               {"MaxRecvDataSegmentLength", "8192"},
                               {"MaxBurstLength", "262144"},
                               {"FirstBurstLength", "65536"},
                               {"MaxOutstandingR2T", "1"},
                               {"ErrorRecoveryLevel", "0"}});
    REQUIRE(login.bhs[36] == 0);
    CHECK(load_be<std::uint16_t>(login.bhs.data() + 14) != 0);  // TSIH assigned
    for (const auto& [k, v] : login.keys())
        CHECK_MESSAGE(v != "Reject", k);

    // READ CAPACITY(10): one Data-In with the status in it.
    c.send(scsi_command(c, 0x25, 0, 0, 8));
    Pdu status;
    auto capacity = read_data(c, status);
    REQUIRE(capacity.size() == 8);
    CHECK(load_be<std::uint32_t>(capacity.data()) == 2047);
    CHECK(status.bhs[3] == 0);

    // Write 64 KiB through R2Ts, then read it back split into 8 KiB Data-In PDUs.
    std::vector<std::uint8_t> pattern(65536);
    std::iota(pattern.begin(), pattern.end(), std::uint8_t{7});
    const Pdu written = write_blocks(c, 100, pattern);
    REQUIRE(written.opcode() == Opcode::scsi_response);
    CHECK(written.bhs[3] == 0);
    std::uint32_t pdus = 0;
    c.send(scsi_command(c, 0x28, 100, 128, 65536));
    CHECK(read_data(c, status, &pdus) == pattern);
    CHECK(pdus == 8);
    CHECK(status.bhs[3] == 0);

    // A big read (1 MiB, above MaxBurstLength) is split into sequences.
    c.send(scsi_command(c, 0x28, 0, 2048, 2048 * 512));
    CHECK(read_data(c, status, &pdus).size() == 2048 * 512);
    CHECK(pdus == 128);

    // The initiator expects more than the command produces: underflow with a residual.
    c.send(scsi_command(c, 0x28, 100, 1, 1024));
    CHECK(read_data(c, status).size() == 512);
    CHECK((status.flags() & 0x02) != 0);
    CHECK(status.u32(44) == 512);
    // ... and less: overflow.
    c.send(scsi_command(c, 0x28, 100, 2, 512));
    CHECK(read_data(c, status).size() == 512);
    CHECK((status.flags() & 0x04) != 0);
    CHECK(status.u32(44) == 512);

    // Beyond the capacity: CHECK CONDITION with sense in a SCSI Response.
    c.send(scsi_command(c, 0x28, 5000, 1, 512));
    read_data(c, status);
    REQUIRE(status.opcode() == Opcode::scsi_response);
    CHECK(status.bhs[3] == 0x02);
    REQUIRE(status.data.size() >= 2 + 18);
    CHECK(load_be<std::uint16_t>(status.data.data()) == 18);
    CHECK(status.data[2 + 12] == 0x21);

    // Data-Out PDUs out of DataSN order (an implied digest error, RFC 7143 §7.1.4): the command ends in CHECK
    // CONDITION, ABORTED COMMAND / PROTOCOL SERVICE CRC ERROR, without touching the disk; the session goes
    // on.
    const int executed_before = h.device->executed.load();
    const std::vector<std::uint8_t> stray(1024, 0xee);
    const Pdu refused = write_blocks(c, 100, stray, [](std::uint32_t n) { return 1 - n; });
    REQUIRE(refused.opcode() == Opcode::scsi_response);
    CHECK(refused.bhs[3] == 0x02);
    REQUIRE(refused.data.size() >= 2 + 18);
    CHECK((refused.data[2 + 2] & 0x0f) == 0x0b);
    CHECK(refused.data[2 + 12] == 0x47);
    CHECK(refused.data[2 + 13] == 0x05);
    CHECK(h.device->executed.load() == executed_before);
    CHECK(h.device->delivery_failures.load() == 1);
    c.send(scsi_command(c, 0x28, 100, 2, 1024));
    CHECK(read_data(c, status) == std::vector<std::uint8_t>(pattern.begin(), pattern.begin() + 1024));

    // StatSN and the CmdSN window advance.
    const Pdu pong = nop(c, "ping!");
    REQUIRE(pong.opcode() == Opcode::nop_in);
    CHECK(std::string(pong.data.begin(), pong.data.end()) == "ping!");
    CHECK(pong.u32(20) == kReservedTag);
    CHECK(pong.u32(28) == c.cmd_sn);
    CHECK(pong.u32(32) == c.cmd_sn + 15);

    const auto sessions = h.server->sessions();
    REQUIRE(sessions.size() == 1);
    CHECK(sessions[0].initiator_name == kInitiator);
    CHECK(sessions[0].bytes_written == 65536 + 1024);  // bytes received, the refused write included
    CHECK(sessions[0].commands >= 6);
}

TEST_CASE("immediate and unsolicited data with digests negotiated") {
    Harness h;
    Client c(h.endpoint);
    const Pdu login = c.login(kInitiator, kOpen, 0x400000000002ull,
                              {{"HeaderDigest", "CRC32C,None"},
                               {"DataDigest", "CRC32C,None"},
                               {"InitialR2T", "No"},
                               {"ImmediateData", "Yes"},
                               {"FirstBurstLength", "8192"},
                               {"MaxBurstLength", "16384"},
                               {"MaxRecvDataSegmentLength", "4096"}});
    REQUIRE(login.bhs[36] == 0);
    REQUIRE(c.header_digest);
    REQUIRE(c.data_digest);
    std::vector<std::uint8_t> data(32768);
    std::iota(data.begin(), data.end(), std::uint8_t{1});
    ScsiCommand cmd;
    cmd.write = true;
    cmd.final_bit = false;
    cmd.initiator_task_tag = 77;
    cmd.expected_data_transfer_length = 32768;
    cmd.cmd_sn = c.cmd_sn++;
    cmd.cdb[0] = 0x2a;
    store_be(cmd.cdb.data() + 2, std::uint32_t{10});
    store_be(cmd.cdb.data() + 7, std::uint16_t{64});
    Bhs bhs;
    build(bhs, cmd, 4096);
    c.send(bhs, std::span(data).first(4096));  // immediate data
    DataOut d;
    d.initiator_task_tag = 77;
    d.buffer_offset = 4096;
    d.final_bit = true;
    build(bhs, d, 4096);
    c.send(bhs, std::span(data).subspan(4096, 4096));  // the rest of the first burst, unsolicited
    std::uint32_t received = 8192;
    while (received < 32768) {
        const Pdu r2t = c.receive();
        REQUIRE(r2t.opcode() == Opcode::r2t);
        const std::uint32_t offset = r2t.u32(40);
        const std::uint32_t length = r2t.u32(44);
        CHECK(length <= 16384);
        for (std::uint32_t done = 0; done < length; done += 4096) {
            DataOut s;
            s.initiator_task_tag = 77;
            s.target_transfer_tag = r2t.u32(20);
            s.buffer_offset = offset + done;
            s.final_bit = done + 4096 == length;
            s.data_sn = done / 4096;
            build(bhs, s, 4096);
            c.send(bhs, std::span(data).subspan(offset + done, 4096));
        }
        received += length;
    }
    const Pdu response = c.receive();
    REQUIRE(response.opcode() == Opcode::scsi_response);
    CHECK(response.bhs[3] == 0);
    CHECK(std::equal(data.begin(), data.end(),
                     reinterpret_cast<const std::uint8_t*>(h.device->data().data()) + 10 * 512));

    c.send(scsi_command(c, 0x28, 10, 64, 32768));
    Pdu status;
    std::uint32_t pdus = 0;
    CHECK(read_data(c, status, &pdus) == data);
    CHECK(pdus == 8);  // 4 KiB PDUs for the initiator's MaxRecvDataSegmentLength
}

TEST_CASE("malformed PDUs: Reject, and the session or the server goes on") {
    Harness h;
    Client c(h.endpoint);
    REQUIRE(c.login(kInitiator, kOpen).bhs[36] == 0);

    Bhs unknown{};
    unknown[0] = 0x1d;
    c.send(unknown);
    Pdu reject = c.receive();
    REQUIRE(reject.opcode() == Opcode::reject);
    CHECK(reject.bhs[2] == 0x05);
    CHECK(reject.data.size() == 48);
    CHECK(nop(c).opcode() == Opcode::nop_in);  // still alive

    // A SNACK at ErrorRecoveryLevel 0.
    Bhs snack{};
    snack[0] = 0x10;
    snack[1] = 0x80;
    c.send(snack);
    CHECK(c.receive().opcode() == Opcode::reject);

    // Outside the CmdSN window: silently ignored.
    Bhs ahead = scsi_command(c, 0x00, 0, 0, 0);
    store_be(ahead.data() + 24, c.cmd_sn + 1000);
    c.send(ahead);
    CHECK(nop(c).opcode() == Opcode::nop_in);

    // A second session is unaffected by what happens to the first.
    Client other(h.endpoint);
    REQUIRE(other.login(kInitiator, kOpen, 0x400000000009ull).bhs[36] == 0);

    // A data segment above our declared MaxRecvDataSegmentLength: Reject, then the connection is closed.
    NopOut big;
    big.immediate = true;
    big.initiator_task_tag = c.next_itt++;
    big.cmd_sn = c.cmd_sn;
    Bhs bhs;
    build(bhs, big, 1u << 20);
    c.send(bhs);
    reject = c.receive();
    REQUIRE(reject.opcode() == Opcode::reject);
    CHECK(reject.bhs[2] == 0x04);
    CHECK(c.closed_by_peer());

    // A truncated PDU followed by a hang-up.
    Client truncated(h.endpoint);
    REQUIRE(truncated.login(kInitiator, kOpen, 0x400000000003ull).bhs[36] == 0);
    truncated.send_raw(std::span(bhs).first(20));
    truncated.socket().close();

    CHECK(nop(other).opcode() == Opcode::nop_in);
}

TEST_CASE("login failures: unknown target, forbidden target, text without '=', non-login PDU") {
    Harness h;
    {
        Client c(h.endpoint);
        const Pdu r = c.login(kInitiator, "iqn.2026-01.test:missing");
        CHECK(r.bhs[36] == 2);
        CHECK(r.bhs[37] == 3);
        CHECK(c.closed_by_peer());
    }
    {
        Client c(h.endpoint);
        const Pdu r = c.login(kInitiator, kPrivate);
        CHECK(r.bhs[36] == 2);
        CHECK(r.bhs[37] == 2);
    }
    {
        Client c(h.endpoint);
        const std::string text("InitiatorName=iqn.x\0NoEquals\0", 29);
        LoginRequest l;
        l.current_stage = 0;
        l.next_stage = 1;
        l.transit = true;
        Bhs bhs;
        build(bhs, l, static_cast<std::uint32_t>(text.size()));
        c.send(bhs, Client::as_span(text));
        const Pdu r = c.receive();
        CHECK(r.bhs[36] == 2);
        CHECK(r.bhs[37] == 0);
    }
    {
        Client c(h.endpoint);
        c.send(scsi_command(c, 0x00, 0, 0, 0));
        CHECK(c.closed_by_peer());
    }
    {
        Client c(h.endpoint);
        LoginRequest l;
        l.next_stage = 1;
        l.transit = true;
        Bhs bhs;
        build(bhs, l, 1u << 20);  // far above the 8192 bytes allowed during login
        c.send(bhs);
        CHECK(c.closed_by_peer());
    }
    Client after(h.endpoint);
    CHECK(after.login(kInitiator, kOpen).bhs[36] == 0);
}

TEST_CASE("connections that never log in are closed by the login timeout") {
    Harness h(1s);
    std::vector<std::unique_ptr<Client>> silent;
    for (int i = 0; i < 1000; ++i)
        silent.push_back(std::make_unique<Client>(h.endpoint));
    Client good(h.endpoint);
    REQUIRE(good.login(kInitiator, kOpen).bhs[36] == 0);
    for (auto& c : silent)
        CHECK(c->closed_by_peer());
    CHECK(nop(good).opcode() == Opcode::nop_in);
}

TEST_CASE("the same initiator and ISID reinstate the session; logout closes it") {
    Harness h;
    Client first(h.endpoint);
    REQUIRE(first.login(kInitiator, kOpen, 0x400000000005ull).bhs[36] == 0);
    Client second(h.endpoint);
    REQUIRE(second.login(kInitiator, kOpen, 0x400000000005ull).bhs[36] == 0);
    CHECK(first.closed_by_peer());

    LogoutRequest l;
    l.immediate = true;
    l.initiator_task_tag = second.next_itt++;
    l.cmd_sn = second.cmd_sn;
    Bhs bhs;
    build(bhs, l);
    second.send(bhs);
    const Pdu r = second.receive();
    REQUIRE(r.opcode() == Opcode::logout_response);
    CHECK(r.bhs[2] == 0);
    CHECK(load_be<std::uint16_t>(r.bhs.data() + 40) == 0);
    CHECK(second.closed_by_peer());
    for (int i = 0; i < 100 && h.device->detached < 2; ++i)
        std::this_thread::sleep_for(10ms);
    CHECK(h.device->attached == 2);
    CHECK(h.device->detached == 2);
}

TEST_CASE("task management: an aborted command never completes after the TMF response") {
    Harness h(15s, 1);  // one disk thread: the second command queues behind the first
    Client c(h.endpoint);
    REQUIRE(c.login(kInitiator, kOpen, 0x400000000006ull).bhs[36] == 0);
    Client bystander(h.endpoint);
    REQUIRE(bystander.login(kInitiator, kOpen, 0x400000000007ull).bhs[36] == 0);

    h.device->hold();
    const Bhs running = scsi_command(c, 0x28, 0, 8, 4096);
    c.send(running);
    h.device->wait_until_waiting(1);
    const Bhs queued = scsi_command(c, 0x28, 8, 8, 4096);
    c.send(queued);
    const int executed_before = h.device->executed;

    TaskManagementRequest abort;
    abort.immediate = true;
    abort.function = 1;
    abort.initiator_task_tag = c.next_itt++;
    abort.referenced_task_tag = load_be<std::uint32_t>(queued.data() + 16);
    abort.ref_cmd_sn = load_be<std::uint32_t>(queued.data() + 24);
    abort.cmd_sn = c.cmd_sn;
    Bhs bhs;
    build(bhs, abort);
    c.send(bhs);
    std::this_thread::sleep_for(200ms);
    CHECK(c.socket().available() == 0);  // the TMF response waits for the disk pool
    h.device->release();
    Pdu status;
    CHECK(read_data(c, status).size() == 4096);  // the running command completes normally
    CHECK(status.itt() == load_be<std::uint32_t>(running.data() + 16));
    const Pdu response = c.receive();
    REQUIRE(response.opcode() == Opcode::task_management_response);
    CHECK(response.bhs[2] == 0);
    CHECK(h.device->executed == executed_before + 1);  // the queued command never reached the disk
    CHECK(nop(c).opcode() == Opcode::nop_in);          // and sent nothing

    // Unknown task: "task does not exist".
    abort.initiator_task_tag = c.next_itt++;
    abort.referenced_task_tag = 0xdead;
    abort.ref_cmd_sn = c.cmd_sn + 5;
    build(bhs, abort);
    c.send(bhs);
    CHECK(c.receive().bhs[2] == 1);

    // LUN RESET reaches the device; a nonexistent LUN is refused.
    TaskManagementRequest reset;
    reset.immediate = true;
    reset.function = 5;
    reset.initiator_task_tag = c.next_itt++;
    reset.cmd_sn = c.cmd_sn;
    build(bhs, reset);
    c.send(bhs);
    CHECK(c.receive().bhs[2] == 0);
    REQUIRE(h.device->resets.size() == 1);
    CHECK(h.device->resets[0].kind == scsi::ResetKind::logical_unit);
    reset.lun = encode_lun(9);
    reset.initiator_task_tag = c.next_itt++;
    build(bhs, reset);
    c.send(bhs);
    CHECK(c.receive().bhs[2] == 2);

    // CLEAR TASK SET tells the device about the other session's nexus.
    reset.function = 4;
    reset.lun = encode_lun(0);
    reset.initiator_task_tag = c.next_itt++;
    build(bhs, reset);
    c.send(bhs);
    CHECK(c.receive().bhs[2] == 0);
    CHECK(h.device->cleared == 1);
    CHECK(nop(bystander).opcode() == Opcode::nop_in);
}

TEST_CASE("stop finishes in-flight commands and flushes the device") {
    Harness h;
    Client c(h.endpoint);
    REQUIRE(c.login(kInitiator, kOpen).bhs[36] == 0);
    h.device->hold();
    c.send(scsi_command(c, 0x28, 0, 1, 512));
    h.device->wait_until_waiting(1);
    std::thread stopper([&] { h.server->stop(); });
    std::this_thread::sleep_for(100ms);
    h.device->release();
    Pdu status;
    CHECK(read_data(c, status).size() == 512);
    CHECK(status.bhs[3] == 0);
    stopper.join();
    h.server->wait();
    CHECK(h.device->flushes == 1);
    CHECK(c.closed_by_peer());
}

TEST_CASE("random bytes before and after login never take the server down") {
    Harness h;
    std::uint32_t state = 12345;
    const auto random_bytes = [&](std::size_t n) {
        std::vector<std::uint8_t> bytes(n);
        for (auto& b : bytes) {
            state = state * 1103515245u + 12345u;
            b = static_cast<std::uint8_t>(state >> 16);
        }
        return bytes;
    };
    for (int i = 0; i < 40; ++i) {
        Client c(h.endpoint);
        if (i % 2 == 1)
            REQUIRE(c.login(kInitiator, kOpen, 0x400000001000ull + static_cast<unsigned>(i)).bhs[36] == 0);
        auto bytes = random_bytes(4096);
        if (i % 4 == 1) bytes[0] = 0x01;  // make the first PDU look like a SCSI command
        boost::system::error_code ec;
        boost::asio::write(c.socket(), boost::asio::buffer(bytes), ec);
    }
    Client good(h.endpoint);
    REQUIRE(good.login(kInitiator, kOpen).bhs[36] == 0);
    CHECK(nop(good).opcode() == Opcode::nop_in);
}

TEST_CASE("sessions spread over the network threads are each served, and stop closes them all") {
    Harness h;  // two network threads: consecutive connections land on different ones
    constexpr std::uint32_t kSessions = 5;
    std::vector<std::unique_ptr<Client>> clients;
    for (std::uint32_t i = 0; i < kSessions; ++i) {
        clients.push_back(std::make_unique<Client>(h.endpoint));
        REQUIRE(clients.back()->login(kInitiator, kOpen, 0x400000000100ull + i).bhs[36] == 0);
    }
    // Each session writes its own block, then every session reads every block back.
    for (std::uint32_t i = 0; i < kSessions; ++i)
        CHECK(write_blocks(*clients[i], 100 + i, std::vector<std::uint8_t>(512, std::uint8_t(0x40 + i)))
                  .bhs[3] == 0);
    for (std::uint32_t reader = 0; reader < kSessions; ++reader) {
        for (std::uint32_t i = 0; i < kSessions; ++i) {
            clients[reader]->send(scsi_command(*clients[reader], 0x28, 100 + i, 1, 512));
            Pdu status;
            CHECK(read_data(*clients[reader], status) ==
                  std::vector<std::uint8_t>(512, std::uint8_t(0x40 + i)));
            CHECK(status.bhs[3] == 0);
        }
    }
    h.server->stop();
    for (auto& c : clients)
        CHECK(c->closed_by_peer());
    CHECK(h.server->sessions().empty());
}
