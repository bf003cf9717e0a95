#pragma once
// The HTTP/1.1 server: Boost.Beast on Asio coroutines, optionally over TLS. One network thread reads and
// writes; handlers run on a small worker pool so a slow catalog or store call never stalls other clients.
// Keep-alive, per-route body limits, header and idle timeouts; malformed requests get a 4xx and the
// connection is closed. Connections are capped in total and per client address; idle ones make way first.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>

#include "web/router.hpp"

namespace bootherd::web {

struct HttpServerOptions {
    boost::asio::ip::tcp::endpoint endpoint{};
    std::shared_ptr<boost::asio::ssl::context> tls{};  // null: plain HTTP
    unsigned workers = 4;
    std::filesystem::path upload_dir{};  // where body_to_file routes put request bodies
    std::chrono::seconds idle_timeout{60};
    std::chrono::seconds request_timeout{
        30};  // one request's header and (in-memory) body, from its first byte
    std::size_t max_connections = 512;
    std::size_t max_connections_per_address = 64;
    std::size_t hash_queue = 16;  // requests waiting for the password-hashing lane; beyond: 503
    std::chrono::milliseconds stream_poll{500};
    std::chrono::seconds stream_keepalive{15};
};

// Runs on a worker before the handler of every route that requires authentication: sets
// request.principal or throws ApiError (401/403).
using Gate = std::function<void(Request&)>;

class HttpServer {
  public:
    // Binds and starts serving; throws std::system_error when the bind fails.
    HttpServer(HttpServerOptions options, Router router, Gate gate);
    ~HttpServer();  // stops
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    boost::asio::ip::tcp::endpoint local_endpoint() const;
    // Stops accepting, drops every connection (event streams included) and joins the threads.
    void stop();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace bootherd::web
