#pragma once
// One HTTP/1.1 request and its answer on a non-blocking socket bound to a chosen local IPv4 address (the
// address of the machine bootstorm plays), driven by the caller's poll() loop. "Connection: close": the
// answer ends at its Content-Length or when the server closes. Answers are capped at 64 KiB.
#include <netinet/in.h>

#include <string>

namespace bootherd::bench {

// "A.B.C.D:PORT" -> an address; std::invalid_argument naming `what` otherwise.
sockaddr_in parse_ipv4_endpoint(const std::string& text, const std::string& what);

class HttpExchange {
  public:
    // Connects from `local` (A.B.C.D, port chosen by the kernel) to `server` and sends `method` `path` with
    // `body` (form-encoded when not empty). A setup failure shows as failed() at once.
    HttpExchange(const std::string& local, const sockaddr_in& server, const std::string& method,
                 const std::string& path, const std::string& body = {});
    ~HttpExchange();
    HttpExchange(const HttpExchange&) = delete;
    HttpExchange& operator=(const HttpExchange&) = delete;

    int fd() const { return fd_; }
    short events() const;  // for poll(): POLLOUT while sending, POLLIN while reading
    void service(short revents);

    bool done() const { return state_ == State::done || state_ == State::failed; }
    bool failed() const { return state_ == State::failed; }
    const std::string& error() const { return error_; }
    int status() const { return status_; }  // the answer's status code
    const std::string& body() const { return body_; }

  private:
    enum class State { connecting, sending, reading, done, failed };
    void fail(const std::string& why);
    void send_some();
    void read_some();
    bool parse_answer(bool closed);

    int fd_ = -1;
    State state_ = State::connecting;
    std::string request_;
    std::size_t sent_ = 0;
    std::string answer_;
    std::string body_;
    std::string error_;
    int status_ = 0;
};

}  // namespace bootherd::bench
