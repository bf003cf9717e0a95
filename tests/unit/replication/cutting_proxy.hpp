#pragma once
// A TCP proxy on 127.0.0.1 for the replication tests: forwards each connection to an upstream server and
// records what the client sent; the answer on the first connection is cut after a number of bytes, as a
// network failure in the middle of a transfer would.
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bootherd::replication::testing {

class CuttingProxy {
  public:
    CuttingProxy(boost::asio::ip::tcp::endpoint upstream, std::uint64_t cut_first_answer_after);
    ~CuttingProxy();
    CuttingProxy(const CuttingProxy&) = delete;
    CuttingProxy& operator=(const CuttingProxy&) = delete;

    std::uint16_t port() const { return port_; }
    struct Exchange {
        std::string request{};           // the client's bytes (the first 16 KiB)
        std::uint64_t answer_bytes = 0;  // bytes passed back to the client
    };
    std::vector<Exchange> exchanges();  // by connection, once each has ended

  private:
    void accept_loop();
    void relay(boost::asio::ip::tcp::socket client, std::size_t index);

    boost::asio::io_context io_{};
    boost::asio::ip::tcp::acceptor acceptor_;
    boost::asio::ip::tcp::endpoint upstream_;
    std::uint64_t cut_after_;
    std::uint16_t port_ = 0;
    bool stopping_ = false;
    std::mutex mutex_;
    std::vector<Exchange> exchanges_;
    std::vector<std::thread> relays_;
    std::thread acceptor_thread_;
};

}  // namespace bootherd::replication::testing
