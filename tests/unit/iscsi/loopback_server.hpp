#pragma once
// A Server on 127.0.0.1 (port chosen by the kernel) for end-to-end tests with test::Client, and the SCSI
// Command PDUs those tests send.
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>

#include "common/bytes.hpp"
#include "target/iscsi/pdu.hpp"
#include "target/iscsi/server.hpp"
#include "test_client.hpp"

namespace bootherd::iscsi::test {

// Two network threads, two disk threads, a CmdSN window of 16, no cap on sessions per target (tests hold
// many sessions of one target from 127.0.0.1; limits_test.cpp sets the caps it checks).
inline ServerOptions loopback_options() {
    ServerOptions options;
    options.listen.emplace_back(boost::asio::ip::make_address("127.0.0.1"), 0);
    options.network_threads = 2;
    options.disk_threads = 2;
    options.queue_depth = 16;
    options.max_sessions_per_target = 0;
    return options;
}

struct LoopbackServer {
    LoopbackServer(ServerOptions options, std::shared_ptr<TargetDirectory> directory)
        : server(std::make_unique<Server>(std::move(options), std::move(directory))) {
        server->start();
        endpoint = server->local_endpoints().at(0);
    }

    std::unique_ptr<Server> server;
    boost::asio::ip::tcp::endpoint endpoint;
};

// A 10-byte-CDB command (READ(10) 28h, WRITE(10) 2Ah, READ CAPACITY(10) 25h, or any other opcode) numbered
// from the client's counters; an immediate command takes the current CmdSN without advancing it.
inline Bhs scsi_command(Client& c, std::uint8_t opcode, std::uint32_t lba, std::uint16_t blocks,
                        std::uint32_t expected_length, bool immediate = false,
                        std::uint32_t data_length = 0) {
    ScsiCommand cmd;
    cmd.read = opcode == 0x28 || opcode == 0x25;
    cmd.write = opcode == 0x2a;
    cmd.attribute = 1;
    cmd.initiator_task_tag = c.next_itt++;
    cmd.expected_data_transfer_length = expected_length;
    cmd.immediate = immediate;
    cmd.cmd_sn = immediate ? c.cmd_sn : c.cmd_sn++;
    cmd.cdb[0] = opcode;
    store_be(cmd.cdb.data() + 2, lba);
    store_be(cmd.cdb.data() + 7, blocks);
    Bhs bhs;
    build(bhs, cmd, data_length);
    return bhs;
}

}  // namespace bootherd::iscsi::test
