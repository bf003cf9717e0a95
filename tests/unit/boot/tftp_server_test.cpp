// The TFTP server on 127.0.0.1 against real clients: curl (tftp://) and a scripted client that behaves like
// EDK2 (tsize probe aborted with ERROR after the OACK, then windowsize 4).
#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "boot/tftp_server.hpp"
#include "fakes.hpp"
#include "temp_directory.hpp"

using namespace bootherd::boot;
using bootherd::boot::testing::FakeEventSink;
using bootherd::boot::testing::random_bytes;
using bootherd::boot::testing::TempDirectory;
namespace asio = boost::asio;
using asio::ip::udp;

namespace {

std::string sha256_hex(const std::string& bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
    std::string hex;
    char two[3];
    for (unsigned int i = 0; i < length; ++i) {
        std::snprintf(two, sizeof two, "%02x", digest[i]);
        hex += two;
    }
    return hex;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// The server on its own I/O thread for the lifetime of the fixture.
class RunningServer {
  public:
    RunningServer(const TftpFileSource& source, std::size_t max_transfers = 512,
                  BootEventSink* events = nullptr, MacResolver resolver = {},
                  std::size_t max_transfers_per_client = 512) {
        TftpServerConfig config;
        config.listen_address = asio::ip::make_address_v4("127.0.0.1");
        config.port = 0;
        config.max_transfers = max_transfers;
        config.max_transfers_per_client = max_transfers_per_client;
        config.limits.default_timeout = std::chrono::seconds(1);
        server_.emplace(io_.get_executor(), config, source, events, std::move(resolver));
        server_->start();
        port_ = server_->local_port();
        thread_ = std::thread([this] { io_.run(); });
    }
    RunningServer(const RunningServer&) = delete;
    RunningServer& operator=(const RunningServer&) = delete;
    ~RunningServer() {
        io_.stop();
        thread_.join();
    }
    std::uint16_t port() const { return port_; }

  private:
    asio::io_context io_;
    std::optional<TftpServer> server_;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

// curl 7.88 rejects an OACK announcing "tsize 0" ("invalid tsize value"), so empty files are fetched
// without options (plain RFC 1350).
std::string curl_command(std::uint16_t port, const std::string& name, const std::filesystem::path& out,
                         int blksize, bool no_options = false) {
    std::ostringstream command;
    command << "curl -sS --max-time 120 --tftp-blksize " << blksize
            << (no_options ? " --tftp-no-options" : "") << " -o \"" << out.string()
            << "\" 'tftp://127.0.0.1:" << port << "/" << name << "'";
    return command.str();
}

// A blocking UDP client with a receive timeout, driven step by step by the test.
class ScriptedClient {
  public:
    explicit ScriptedClient(const char* address = "127.0.0.1")
        : socket_(io_, udp::endpoint(asio::ip::make_address_v4(address), 0)) {
        timeval timeout{2, 0};
        ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    }
    void send(const TftpPacket& packet, const udp::endpoint& to) {
        socket_.send_to(asio::buffer(serialize_tftp_packet(packet)), to);
    }
    // Asio's blocking receive waits on past SO_RCVTIMEO: tests that expect silence ask this first.
    bool answered_within(int milliseconds) {
        pollfd fd{socket_.native_handle(), POLLIN, 0};
        return ::poll(&fd, 1, milliseconds) == 1;
    }
    TftpPacket receive(udp::endpoint& from) {
        std::vector<std::uint8_t> buffer(65536);
        const std::size_t n = socket_.receive_from(asio::buffer(buffer), from);
        return parse_tftp_packet(std::span<const std::uint8_t>(buffer.data(), n));
    }

  private:
    asio::io_context io_;
    udp::socket socket_;
};

udp::endpoint loopback(std::uint16_t port) {
    return udp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port);
}

}  // namespace

TEST_CASE("tftp server: curl downloads files of all edge sizes intact") {
    TempDirectory root;
    TempDirectory downloads;
    const std::vector<std::pair<std::size_t, int>> cases{
        {0, 512},         {511, 512},           {512, 512},
        {1432 * 3, 1432}, {1432 * 5 + 1, 1432}, {33 * 1024 * 1024 + 17, 512}};
    for (std::size_t i = 0; i < cases.size(); ++i)
        root.write("file" + std::to_string(i), random_bytes(cases[i].first, static_cast<unsigned>(i)));
    TftpFileSource source(root.path());
    RunningServer server(source);

    for (std::size_t i = 0; i < cases.size(); ++i) {
        const auto [size, blksize] = cases[i];
        CAPTURE(size);
        CAPTURE(blksize);
        const auto out = downloads.path() / ("out" + std::to_string(i));
        const auto command = curl_command(server.port(), "file" + std::to_string(i), out, blksize, size == 0);
        REQUIRE(std::system(command.c_str()) == 0);
        const std::string got = read_file(out);
        CHECK(got.size() == size);
        CHECK(sha256_hex(got) == sha256_hex(read_file(root.path() / ("file" + std::to_string(i)))));
    }
}

TEST_CASE("tftp server: two hundred concurrent curl downloads") {
    TempDirectory root;
    TempDirectory downloads;
    const std::string content = random_bytes(100 * 1024 + 3, 42);
    root.write("ipxe.efi", content);
    TftpFileSource source(root.path());
    RunningServer server(source);

    std::ostringstream script;
    script << "fail=0\nfor i in $(seq 1 200); do\n  "
           << curl_command(server.port(), "ipxe.efi", downloads.path() / "out.$i", 1432)
           << " &\ndone\nfor job in $(jobs -p); do wait $job || fail=1; done\nexit $fail\n";
    downloads.write("fetch.sh", script.str());
    REQUIRE(std::system(("bash " + (downloads.path() / "fetch.sh").string()).c_str()) == 0);
    const std::string expected = sha256_hex(content);
    for (int i = 1; i <= 200; ++i) {
        CAPTURE(i);
        CHECK(sha256_hex(read_file(downloads.path() / ("out." + std::to_string(i)))) == expected);
    }
}

TEST_CASE("tftp server: EDK2 style tsize probe, abort after OACK, then a windowed download") {
    TempDirectory root;
    const std::string content = random_bytes(1468 * 9 + 100, 7);
    root.write("ipxe.efi", content);
    TftpFileSource source(root.path());
    FakeEventSink events;
    const MacAddress mac{{0x52, 0x54, 0, 0, 0, 9}};
    RunningServer server(source, 512, &events, [&mac](Ipv4 address) -> std::optional<MacAddress> {
        if (address == asio::ip::make_address_v4("127.0.0.1")) return mac;
        return std::nullopt;
    });
    ScriptedClient client;
    udp::endpoint transfer;

    client.send(
        TftpRequest{false, "ipxe.efi", "octet", {{"tsize", "0"}, {"blksize", "1468"}, {"windowsize", "4"}}},
        loopback(server.port()));
    const auto probe = std::get<TftpOack>(client.receive(transfer));
    CHECK(probe.options == TftpOptionList{{"tsize", std::to_string(content.size())},
                                          {"blksize", "1468"},
                                          {"windowsize", "4"}});
    CHECK(transfer.port() != server.port());
    client.send(TftpError{TftpErrorCode::option_refused, "user aborted"}, transfer);

    client.send(TftpRequest{false, "ipxe.efi", "octet", {{"blksize", "1468"}, {"windowsize", "4"}}},
                loopback(server.port()));
    CHECK(std::get<TftpOack>(client.receive(transfer)).options ==
          TftpOptionList{{"blksize", "1468"}, {"windowsize", "4"}});
    client.send(TftpAck{0}, transfer);
    std::string received;
    std::uint16_t expected = 1;
    for (;;) {
        udp::endpoint from;
        const auto data = std::get<TftpData>(client.receive(from));
        REQUIRE(from == transfer);
        REQUIRE(data.block == expected);
        received.append(data.payload.begin(), data.payload.end());
        const bool last = data.payload.size() < 1468;
        if (last || expected % 4 == 0) client.send(TftpAck{expected}, transfer);
        ++expected;
        if (last) break;
    }
    CHECK(received == content);
    // The first transfer was aborted, the second completed: both reported for the client's MAC.
    for (int i = 0; i < 100 && events.count() < 2; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const auto recorded = events.snapshot();
    REQUIRE(recorded.size() == 2);
    CHECK(recorded[0].mac == mac);
    CHECK(recorded[0].step == "tftp transfer");
    CHECK(recorded[0].detail == "ipxe.efi aborted by client");
    CHECK(recorded[1].detail == "ipxe.efi complete");

    // A packet from a stranger to a transfer port is answered with "unknown transfer ID".
    client.send(TftpRequest{false, "ipxe.efi", "octet", {}}, loopback(server.port()));
    udp::endpoint third;
    CHECK(std::get<TftpData>(client.receive(third)).block == 1);
    ScriptedClient stranger;
    stranger.send(TftpAck{1}, third);
    udp::endpoint from;
    CHECK(std::get<TftpError>(stranger.receive(from)).code == TftpErrorCode::unknown_transfer_id);
}

TEST_CASE("tftp server: refusals") {
    TempDirectory root;
    root.write("a", "abc");
    TftpFileSource source(root.path());
    RunningServer server(source, 1);
    ScriptedClient client;
    udp::endpoint from;

    client.send(TftpRequest{true, "a", "octet", {}}, loopback(server.port()));
    CHECK(std::get<TftpError>(client.receive(from)).code == TftpErrorCode::access_violation);
    client.send(TftpRequest{false, "../etc/passwd", "octet", {}}, loopback(server.port()));
    CHECK(std::get<TftpError>(client.receive(from)).code == TftpErrorCode::access_violation);
    client.send(TftpRequest{false, "missing", "octet", {}}, loopback(server.port()));
    CHECK(std::get<TftpError>(client.receive(from)).code == TftpErrorCode::file_not_found);
    client.send(TftpRequest{false, "a", "mail", {}}, loopback(server.port()));
    CHECK(std::get<TftpError>(client.receive(from)).code == TftpErrorCode::illegal_operation);

    // With one transfer running (never acknowledged), the bound refuses a second one.
    client.send(TftpRequest{false, "a", "octet", {}}, loopback(server.port()));
    CHECK(std::get<TftpData>(client.receive(from)).block == 1);
    // Repeating the same request (the client thinks it was lost) neither starts a second transfer nor counts
    // against the bound.
    client.send(TftpRequest{false, "a", "octet", {}}, loopback(server.port()));
    CHECK(std::get<TftpData>(client.receive(from)).block == 1);  // the first transfer's retransmission
    CHECK(from.port() != server.port());
    ScriptedClient second;
    second.send(TftpRequest{false, "a", "octet", {}}, loopback(server.port()));
    const auto busy = std::get<TftpError>(second.receive(from));
    CHECK(busy.code == TftpErrorCode::not_defined);
    CHECK(from.port() == server.port());
}

TEST_CASE("tftp server: one address cannot hold more than its share; unanswered transfers end fast") {
    TempDirectory root;
    root.write("a", random_bytes(5000, 3));
    TftpFileSource source(root.path());
    RunningServer server(source, 512, nullptr, {}, 2);
    udp::endpoint from;

    // Two unanswered transfers from 127.0.0.1 (different ports) fill its share...
    ScriptedClient first;
    ScriptedClient second;
    first.send(TftpRequest{false, "a", "octet", {}}, loopback(server.port()));
    CHECK(std::get<TftpData>(first.receive(from)).block == 1);
    second.send(TftpRequest{false, "a", "octet", {{"blksize", "1432"}}}, loopback(server.port()));
    CHECK(std::holds_alternative<TftpOack>(second.receive(from)));
    // ...so a third request from it gets no answer at all (an error would reflect the flood)...
    ScriptedClient third;
    third.send(TftpRequest{false, "a", "octet", {}}, loopback(server.port()));
    CHECK_FALSE(third.answered_within(1000));
    // ...while another address is served at once.
    ScriptedClient other("127.0.0.2");
    other.send(TftpRequest{false, "a", "octet", {}}, loopback(server.port()));
    CHECK(std::get<TftpData>(other.receive(from)).block == 1);

    // Never acknowledged, the first two end after the short unanswered timeout and retries (1 s, 2 retries)
    // and free the address's share.
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    third.send(TftpRequest{false, "a", "octet", {}}, loopback(server.port()));
    CHECK(std::get<TftpData>(third.receive(from)).block == 1);
}
