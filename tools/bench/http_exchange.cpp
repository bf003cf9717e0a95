#include "http_exchange.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace bootherd::bench {
namespace {

constexpr std::size_t kMaxAnswer = 64 * 1024;

}  // namespace

sockaddr_in parse_ipv4_endpoint(const std::string& text, const std::string& what) {
    const auto colon = text.rfind(':');
    sockaddr_in address{};
    address.sin_family = AF_INET;
    const std::string host = text.substr(0, colon);
    int port = 0;
    try {
        port = colon == std::string::npos ? 0 : std::stoi(text.substr(colon + 1));
    } catch (const std::exception&) {
        port = 0;
    }
    if (port <= 0 || port > 65535 || inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1)
        throw std::invalid_argument(what + ": want A.B.C.D:PORT, got '" + text + "'");
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    return address;
}

HttpExchange::HttpExchange(const std::string& local, const sockaddr_in& server, const std::string& method,
                           const std::string& path, const std::string& body) {
    char host[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &server.sin_addr, host, sizeof host);
    request_ = method + " " + path + " HTTP/1.1\r\nHost: " + host + ":" +
               std::to_string(ntohs(server.sin_port)) + "\r\nConnection: close\r\n";
    if (!body.empty())
        request_ += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n";
    request_ += "\r\n" + body;

    sockaddr_in from{};
    from.sin_family = AF_INET;
    if (inet_pton(AF_INET, local.c_str(), &from.sin_addr) != 1) {
        fail("bad local address " + local);
    } else if ((fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
        fail(std::string("socket: ") + std::strerror(errno));
    } else if (::bind(fd_, reinterpret_cast<const sockaddr*>(&from), sizeof from) != 0) {
        fail("bind to " + local + ": " + std::strerror(errno));
    } else if (::connect(fd_, reinterpret_cast<const sockaddr*>(&server), sizeof server) == 0) {
        state_ = State::sending;
    } else if (errno != EINPROGRESS) {
        fail(std::string("connect: ") + std::strerror(errno));
    }
}

HttpExchange::~HttpExchange() {
    if (fd_ >= 0) ::close(fd_);
}

short HttpExchange::events() const {
    switch (state_) {
        case State::connecting:
        case State::sending:
            return POLLOUT;
        case State::reading:
            return POLLIN;
        default:
            return 0;
    }
}

void HttpExchange::service(short revents) {
    if (done()) return;
    if (state_ == State::connecting) {
        int error = 0;
        socklen_t length = sizeof error;
        if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0)
            return fail(std::string("connect: ") + std::strerror(error != 0 ? error : errno));
        if ((revents & POLLOUT) == 0) return;
        state_ = State::sending;
    }
    if (state_ == State::sending) return send_some();
    if (state_ == State::reading && (revents & (POLLIN | POLLHUP | POLLERR)) != 0) read_some();
}

void HttpExchange::send_some() {
    const auto n = ::send(fd_, request_.data() + sent_, request_.size() - sent_, MSG_NOSIGNAL);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        return fail(std::string("send: ") + std::strerror(errno));
    }
    sent_ += static_cast<std::size_t>(n);
    if (sent_ == request_.size()) state_ = State::reading;
}

void HttpExchange::read_some() {
    char buffer[8192];
    const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        return fail(std::string("recv: ") + std::strerror(errno));
    }
    answer_.append(buffer, static_cast<std::size_t>(n));
    if (answer_.size() > kMaxAnswer) return fail("answer over 64 KiB");
    if (parse_answer(n == 0)) {
        state_ = State::done;
    } else if (n == 0) {
        fail("the server closed before a whole answer");
    }
}

// True once the answer is complete: its status line and headers, then Content-Length bytes (or everything up
// to the close).
bool HttpExchange::parse_answer(bool closed) {
    const auto end = answer_.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    if (answer_.compare(0, 5, "HTTP/") != 0 || answer_.size() < 12) return false;
    status_ = std::atoi(answer_.c_str() + 9);
    std::string headers = answer_.substr(0, end);
    for (auto& c : headers)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto length_at = headers.find("\r\ncontent-length:");
    body_ = answer_.substr(end + 4);
    if (length_at == std::string::npos) return closed;
    const auto length = std::strtoull(headers.c_str() + length_at + 17, nullptr, 10);
    if (body_.size() < length) return false;
    body_.resize(length);
    return true;
}

void HttpExchange::fail(const std::string& why) {
    state_ = State::failed;
    error_ = why;
}

}  // namespace bootherd::bench
