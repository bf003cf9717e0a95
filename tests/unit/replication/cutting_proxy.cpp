#include "tests/unit/replication/cutting_proxy.hpp"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

namespace bootherd::replication::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

CuttingProxy::CuttingProxy(tcp::endpoint upstream, std::uint64_t cut_first_answer_after)
    : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
      upstream_(upstream),
      cut_after_(cut_first_answer_after) {
    port_ = acceptor_.local_endpoint().port();
    acceptor_thread_ = std::thread([this] { accept_loop(); });
}

CuttingProxy::~CuttingProxy() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    boost::system::error_code ignored;
    tcp::socket wake(io_);
    wake.connect(acceptor_.local_endpoint(), ignored);  // unblocks accept()
    acceptor_thread_.join();
    for (auto& relay : relays_)
        relay.join();
}

std::vector<CuttingProxy::Exchange> CuttingProxy::exchanges() {
    std::lock_guard lock(mutex_);
    return exchanges_;
}

void CuttingProxy::accept_loop() {
    while (true) {
        tcp::socket client(io_);
        boost::system::error_code ec;
        acceptor_.accept(client, ec);
        std::lock_guard lock(mutex_);
        if (stopping_ || ec) return;
        exchanges_.emplace_back();
        relays_.emplace_back([this, client = std::move(client), index = exchanges_.size() - 1]() mutable {
            relay(std::move(client), index);
        });
    }
}

void CuttingProxy::relay(tcp::socket client, std::size_t index) {
    boost::system::error_code ec;
    tcp::socket server(io_);
    server.connect(upstream_, ec);
    if (ec) return;
    std::thread requests([&] {
        std::array<char, 4096> buffer{};
        while (true) {
            boost::system::error_code read_ec;
            const auto n = client.read_some(asio::buffer(buffer), read_ec);
            if (read_ec) break;
            {
                std::lock_guard lock(mutex_);
                auto& request = exchanges_[index].request;
                request.append(buffer.data(), std::min<std::size_t>(
                                                  n, 16384 - std::min<std::size_t>(16384, request.size())));
            }
            asio::write(server, asio::buffer(buffer.data(), n), read_ec);
            if (read_ec) break;
        }
        server.shutdown(tcp::socket::shutdown_send, ec);
    });
    const std::uint64_t limit = index == 0 ? cut_after_ : UINT64_MAX;
    std::uint64_t passed = 0;
    std::array<char, 65536> buffer{};
    while (passed < limit) {
        boost::system::error_code read_ec;
        auto n = server.read_some(asio::buffer(buffer), read_ec);
        if (read_ec) break;
        n = static_cast<std::size_t>(std::min<std::uint64_t>(n, limit - passed));
        asio::write(client, asio::buffer(buffer.data(), n), read_ec);
        if (read_ec) break;
        passed += n;
        std::lock_guard lock(mutex_);
        exchanges_[index].answer_bytes = passed;
    }
    client.shutdown(tcp::socket::shutdown_both, ec);
    server.shutdown(tcp::socket::shutdown_both, ec);
    requests.join();
}

}  // namespace bootherd::replication::testing
