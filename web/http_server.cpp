#include "web/http_server.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cerrno>
#include <span>
#include <thread>
#include <type_traits>
#include <vector>

#include "common/bind_error.hpp"
#include "common/log.hpp"
#include "db/credentials.hpp"
#include "web/api_error.hpp"
#include "web/connection_table.hpp"
#include "web/http_parsing.hpp"

namespace bootherd::web {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kHeaderLimit = 16 * 1024;
constexpr std::size_t kFirstRead = 4096;
// Memory per file body being sent (an admin route only); each piece costs two thread hops, so not smaller.
constexpr std::size_t kFileChunk = 512 * 1024;
constexpr std::size_t kEvictOnExhaustion = 8;  // connections closed per accept failing for descriptors

bool out_of_descriptors(const beast::error_code& ec) {
    return ec == boost::system::errc::too_many_files_open ||
           ec == boost::system::errc::too_many_files_open_in_system;
}

// At most one line per interval for a condition a flood can trigger at network speed.
class RateLimitedLog {
  public:
    template <class... Args>
    void warn(const Args&... args) {
        const auto now = std::chrono::steady_clock::now();
        if (now - last_ < std::chrono::seconds(10)) {
            ++suppressed_;
            return;
        }
        log::warn(args..., suppressed_
                               ? " (and " + std::to_string(suppressed_) + " more since the last report)"
                               : std::string());
        last_ = now;
        suppressed_ = 0;
    }

  private:
    std::chrono::steady_clock::time_point last_{};
    std::size_t suppressed_ = 0;
};

bool is_http_parse_error(const beast::error_code& ec) {
    return ec.category() == http::make_error_code(http::error::bad_target).category();
}

template <class Body>
void set_headers(http::response<Body>& message, Response& response) {
    message.set(http::field::server, "bootherd");
    if (!response.content_type.empty()) message.set(http::field::content_type, response.content_type);
    message.set("X-Content-Type-Options", "nosniff");
    message.set("X-Frame-Options", "DENY");
    message.set("Referrer-Policy", "no-referrer");
    for (auto& [field, value] : response.headers)
        message.insert(field, value);
}

http::response<http::string_body> to_message(Response& response, bool keep_alive, bool head_only) {
    http::response<http::string_body> message{response.status, 11};
    set_headers(message, response);
    if (!message.has_content_length() && response.status != http::status::no_content &&
        !message.count(http::field::cache_control))
        message.set(http::field::cache_control, "no-store");
    message.body() = std::move(response.body);
    message.keep_alive(keep_alive);
    message.prepare_payload();
    if (head_only) message.body().clear();
    return message;
}

// The descriptor of a file body being sent; closed when the send ends.
class FileReader {
  public:
    explicit FileReader(const std::filesystem::path& path)
        : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
    ~FileReader() {
        if (fd_ >= 0) ::close(fd_);
    }
    FileReader(const FileReader&) = delete;
    FileReader& operator=(const FileReader&) = delete;
    bool is_open() const { return fd_ >= 0; }
    // Fills `into` from `offset` unless the file ends first; the bytes read, or -1 on an error.
    ssize_t read(std::span<char> into, std::uint64_t offset) const {
        std::size_t done = 0;
        while (done < into.size()) {
            const ssize_t got =
                ::pread(fd_, into.data() + done, into.size() - done, static_cast<off_t>(offset + done));
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) return -1;
            if (got == 0) break;
            done += static_cast<std::size_t>(got);
        }
        return static_cast<ssize_t>(done);
    }

  private:
    int fd_;
};

}  // namespace

struct HttpServer::Impl {
    Impl(HttpServerOptions o, Router r, Gate g)
        : options(std::move(o)),
          router(std::move(r)),
          gate(std::move(g)),
          connections({.total = options.max_connections, .per_address = options.max_connections_per_address}),
          workers(options.workers) {}

    HttpServerOptions options;
    Router router;
    Gate gate;
    // Before the io_context: connection frames it destroys at the end still hold tickets to release.
    ConnectionTable connections;  // network thread only
    asio::io_context ioc{1};
    tcp::acceptor acceptor{ioc};
    asio::thread_pool workers;
    asio::thread_pool hashing{1};  // one password hash at a time: the other core stays free for the rest
    std::size_t hash_waiting = 0;  // requests queued for or running on `hashing`
    RateLimitedLog accept_log{};
    RateLimitedLog refusal_log{};
    std::thread network;
    std::atomic<bool> stopped{false};

    // Runs f() on the pool and resumes the calling coroutine on the network thread with its result.
    template <class F>
    asio::awaitable<std::invoke_result_t<F&>> on(asio::thread_pool& pool, F f) {
        using Result = std::invoke_result_t<F&>;
        co_return co_await asio::co_spawn(
            pool.get_executor(), [&f]() -> asio::awaitable<Result> { co_return f(); }, asio::use_awaitable);
    }
    template <class F>
    asio::awaitable<std::invoke_result_t<F&>> on_worker(F f) {
        co_return co_await on(workers, std::move(f));
    }

    Response handle(Request& request, const Route& route) {
        try {
            if (route.options.requires_auth && !request.principal) gate(request);
            return route.handler(request);
        } catch (...) {
            return error_response_for(std::current_exception());
        }
    }

    asio::awaitable<void> accept_loop() {
        while (!stopped) {
            auto [ec, socket] = co_await acceptor.async_accept(tuple_awaitable);
            if (ec) {
                if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
                // Out of descriptors: idle (or slow) connections make way for the one waiting.
                const auto evicted = out_of_descriptors(ec) ? connections.evict(kEvictOnExhaustion) : 0;
                accept_log.warn("web: accept failed: ", ec.message(), "; closed ", evicted,
                                " idle connection(s)");
                if (evicted > 0) continue;
                asio::steady_timer pause(ioc, std::chrono::milliseconds(100));
                co_await pause.async_wait(tuple_awaitable);
                continue;
            }
            beast::error_code peer_ec;
            const auto peer = socket.remote_endpoint(peer_ec);
            if (peer_ec) continue;
            auto ticket = connections.admit(peer.address());
            if (!ticket) {
                refusal_log.warn("web: refused a connection from ", peer.address().to_string(),
                                 ": too many connections");
                continue;  // closed by the socket's destructor
            }
            asio::co_spawn(ioc, serve_connection(std::move(socket), std::move(*ticket)), asio::detached);
        }
    }

    asio::awaitable<void> serve_connection(tcp::socket socket, ConnectionTable::Ticket ticket) {
        beast::error_code ignored;
        const auto peer = socket.remote_endpoint(ignored);
        try {
            if (options.tls) {
                beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *options.tls);
                // Declared after the stream: released (and its closer dropped) before the stream goes.
                auto slot = std::move(ticket);
                slot.on_evict([&stream] {
                    beast::error_code closed;
                    beast::get_lowest_layer(stream).socket().close(closed);
                });
                beast::get_lowest_layer(stream).expires_after(options.request_timeout);
                auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, tuple_awaitable);
                if (ec) co_return;
                co_await serve(stream, slot, peer.address(), true);
                beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
                co_await stream.async_shutdown(tuple_awaitable);
            } else {
                beast::tcp_stream stream(std::move(socket));
                auto slot = std::move(ticket);
                slot.on_evict([&stream] {
                    beast::error_code closed;
                    stream.socket().close(closed);
                });
                co_await serve(stream, slot, peer.address(), false);
                stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
            }
        } catch (const std::exception& e) {
            log::debug("web: connection from ", peer, " dropped: ", e.what());
        }
    }

    template <class Stream>
    asio::awaitable<void> send(Stream& stream, Response response, bool keep_alive, bool head_only) {
        auto message = to_message(response, keep_alive, head_only);
        beast::get_lowest_layer(stream).expires_after(options.request_timeout);
        co_await http::async_write(stream, message, tuple_awaitable);
    }

    // Sends a file body, reading each chunk on a worker; false when the connection cannot go on (an error,
    // or the file ended early: the client sees a short body). A file that cannot be opened answers 404.
    template <class Stream>
    asio::awaitable<bool> send_file(Stream& stream, Response response, bool keep_alive, bool head_only) {
        const FileBody body = *response.file;
        auto reader = co_await on_worker([&] { return std::make_unique<FileReader>(body.path); });
        if (!reader->is_open()) {
            co_await send(stream, error_response(http::status::not_found, "the file is gone"), keep_alive,
                          head_only);
            co_return keep_alive;
        }
        http::response<http::empty_body> head{response.status, 11};
        set_headers(head, response);
        head.content_length(body.length);
        head.keep_alive(keep_alive);
        http::response_serializer<http::empty_body> serializer{head};
        beast::get_lowest_layer(stream).expires_after(options.request_timeout);
        auto [ec, n] = co_await http::async_write_header(stream, serializer, tuple_awaitable);
        if (ec) co_return false;
        if (head_only) co_return keep_alive;
        std::vector<char> chunk(static_cast<std::size_t>(std::min<std::uint64_t>(kFileChunk, body.length)));
        for (std::uint64_t sent = 0; sent < body.length;) {
            const auto want = std::span(chunk).first(
                static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), body.length - sent)));
            const ssize_t got = co_await on_worker([&] { return reader->read(want, body.offset + sent); });
            if (got <= 0) {
                log::warn("web: ", body.path.string(), " ended or failed after ", sent, " of ", body.length,
                          " bytes");
                co_return false;
            }
            beast::get_lowest_layer(stream).expires_after(options.request_timeout);
            auto [write_ec, written] = co_await asio::async_write(
                stream, asio::buffer(want.data(), static_cast<std::size_t>(got)), tuple_awaitable);
            if (write_ec) co_return false;
            sent += static_cast<std::uint64_t>(got);
        }
        co_return keep_alive;
    }

    // Waits up to the idle timeout for the first bytes of the next request (the connection is idle, and
    // may be evicted, meanwhile); false when the connection ended instead.
    template <class Stream>
    asio::awaitable<bool> await_request(Stream& stream, ConnectionTable::Ticket& slot,
                                        beast::flat_buffer& buffer) {
        if (buffer.size() > 0) co_return true;  // pipelined
        beast::get_lowest_layer(stream).expires_after(options.idle_timeout);
        slot.set_state(ConnectionTable::State::idle);
        auto [ec, n] = co_await stream.async_read_some(buffer.prepare(kFirstRead), tuple_awaitable);
        if (ec) co_return false;
        buffer.commit(n);
        co_return true;
    }

    template <class Stream>
    asio::awaitable<void> serve(Stream& stream, ConnectionTable::Ticket& slot,
                                const asio::ip::address& client, bool secure) {
        beast::flat_buffer buffer;
        while (!stopped) {
            if (!co_await await_request(stream, slot, buffer)) co_return;
            slot.set_state(ConnectionTable::State::reading);
            // The header and an in-memory body must be complete by this deadline (docs/API.md), however
            // slowly their bytes trickle in.
            const auto deadline = std::chrono::steady_clock::now() + options.request_timeout;
            http::request_parser<http::empty_body> header_parser;
            header_parser.header_limit(kHeaderLimit);
            header_parser.body_limit(boost::none);  // each route's own limit applies once it is known
            beast::get_lowest_layer(stream).expires_at(deadline);
            auto [ec, header_bytes] =
                co_await http::async_read_header(stream, buffer, header_parser, tuple_awaitable);
            slot.set_state(ConnectionTable::State::busy);
            if (ec == http::error::header_limit) {
                co_await send(
                    stream,
                    error_response(http::status::request_header_fields_too_large, "request header too large"),
                    false, false);
                co_return;
            }
            if (ec) {
                if (is_http_parse_error(ec) && ec != http::error::end_of_stream)
                    co_await send(stream, error_response(http::status::bad_request, "malformed request"),
                                  false, false);
                co_return;
            }

            auto& header = header_parser.get();
            Request request;
            request.client = client;
            request.secure = secure;
            request.method = header.method();
            const auto [path, query] = split_target(header.target());
            request.path = std::string(path);
            request.headers = static_cast<const http::fields&>(header);
            const bool head_only = request.method == http::verb::head;
            // A request whose body we do not read leaves the connection unusable.
            bool keep_alive = header.keep_alive();

            auto parsed_query = parse_query(query);
            if (!parsed_query) {
                co_await send(stream, error_response(http::status::bad_request, "malformed query string"),
                              false, head_only);
                co_return;
            }
            request.query = std::move(*parsed_query);
            auto match = router.match(request.method, path);
            if (match.kind != Router::Match::Kind::found) {
                // Built before the co_await: g++ 12 destroys temporaries of a conditional inside a co_await
                // expression twice.
                Response refusal = error_response(http::status::not_found, "no such route");
                if (match.kind == Router::Match::Kind::method_not_allowed)
                    refusal = error_response(http::status::method_not_allowed, "method not allowed");
                co_await send(stream, std::move(refusal), keep_alive && header_parser.is_done(), head_only);
                if (!header_parser.is_done()) co_return;
                continue;
            }
            const Route& route = *match.route;
            request.params = std::move(match.params);

            const auto length = header_parser.content_length();
            if (length && *length > route.options.body_limit) {
                co_await send(stream,
                              error_response(http::status::payload_too_large, "request body too large"),
                              false, head_only);
                co_return;
            }

            if (route.options.body_to_file) {
                // Check who is asking before accepting a large body.
                Response refused = co_await on_worker([&] {
                    try {
                        if (route.options.requires_auth) gate(request);
                        return Response{};
                    } catch (...) {
                        return error_response_for(std::current_exception());
                    }
                });
                if (refused.status != http::status::ok) {
                    co_await send(stream, std::move(refused), false, head_only);
                    co_return;
                }
            }
            if (!header_parser.is_done() && beast::iequals(header[http::field::expect], "100-continue")) {
                http::response<http::empty_body> proceed{http::status::continue_, 11};
                auto [write_ec, written] = co_await http::async_write(stream, proceed, tuple_awaitable);
                if (write_ec) co_return;
            }

            if (route.options.body_to_file) {
                auto file =
                    co_await read_body_to_file(stream, buffer, header_parser, route.options.body_limit);
                if (!file) co_return;
                request.body_file = std::move(*file);
            } else {
                http::request_parser<http::string_body> body_parser(std::move(header_parser));
                body_parser.body_limit(route.options.body_limit);
                beast::get_lowest_layer(stream).expires_at(deadline);
                auto [body_ec, body_read] =
                    co_await http::async_read(stream, buffer, body_parser, tuple_awaitable);
                if (body_ec == http::error::body_limit) {
                    co_await send(stream,
                                  error_response(http::status::payload_too_large, "request body too large"),
                                  false, head_only);
                    co_return;
                }
                if (body_ec) {
                    if (is_http_parse_error(body_ec))
                        co_await send(stream,
                                      error_response(http::status::bad_request, "malformed request body"),
                                      false, head_only);
                    co_return;
                }
                request.body = std::move(body_parser.get().body());
            }

            Response response = co_await dispatch(request, route);
            if (!request.body_file.empty()) {
                std::error_code ignored;  // the handler took it over, or it is no longer needed
                std::filesystem::remove(request.body_file, ignored);
            }
            if (response.stream) {
                co_await stream_events(stream, response);
                co_return;
            }
            if (response.file) {
                if (!co_await send_file(stream, std::move(response), keep_alive, head_only)) co_return;
                continue;
            }
            co_await send(stream, std::move(response), keep_alive, head_only);
            if (!keep_alive) co_return;
        }
    }

    // Runs the route's handler on the worker pool, or on the hashing lane while its queue has room.
    asio::awaitable<Response> dispatch(Request& request, const Route& route) {
        if (!route.options.hashes_password)
            co_return co_await on_worker([&] { return handle(request, route); });
        if (hash_waiting >= options.hash_queue) {
            Response busy = error_response(http::status::service_unavailable, "too many logins at once");
            busy.headers.emplace_back(http::field::retry_after, "1");
            co_return busy;
        }
        ++hash_waiting;
        Response response = co_await on(hashing, [&] { return handle(request, route); });
        --hash_waiting;
        co_return response;
    }

    // Reads the rest of the request into a new file of upload_dir; nullopt (after answering, when the
    // client is still there) on failure.
    template <class Stream>
    asio::awaitable<std::optional<std::filesystem::path>> read_body_to_file(
        Stream& stream, beast::flat_buffer& buffer, http::request_parser<http::empty_body>& header_parser,
        std::size_t limit) {
        const auto file = options.upload_dir / ("upload-" + db::random_credential(16));
        http::request_parser<http::file_body> parser(std::move(header_parser));
        parser.body_limit(limit);
        beast::error_code ec;
        parser.get().body().open(file.c_str(), beast::file_mode::write_new, ec);
        if (ec) {
            log::error("web: cannot create ", file.string(), ": ", ec.message());
            co_await send(stream, error_response(http::status::internal_server_error, "cannot store upload"),
                          false, false);
            co_return std::nullopt;
        }
        while (!parser.is_done()) {
            // A deadline per chunk rather than for the whole body: large images take a while.
            beast::get_lowest_layer(stream).expires_after(options.request_timeout);
            auto [read_ec, n] = co_await http::async_read_some(stream, buffer, parser, tuple_awaitable);
            if (read_ec) {
                ec = read_ec;
                break;
            }
        }
        parser.get().body().close();
        if (!ec) co_return file;
        std::error_code ignored;
        std::filesystem::remove(file, ignored);
        if (ec == http::error::body_limit)
            co_await send(stream, error_response(http::status::payload_too_large, "upload too large"), false,
                          false);
        co_return std::nullopt;
    }

    template <class Stream>
    asio::awaitable<void> stream_events(Stream& stream, Response& response) {
        http::response<http::empty_body> head{response.status, 11};
        head.set(http::field::server, "bootherd");
        head.set(http::field::content_type, response.content_type);
        head.set(http::field::cache_control, "no-store");
        head.keep_alive(false);  // the body ends when the connection does
        http::response_serializer<http::empty_body> serializer{head};
        beast::get_lowest_layer(stream).expires_after(options.request_timeout);
        auto [ec, n] = co_await http::async_write_header(stream, serializer, tuple_awaitable);
        if (ec) co_return;
        asio::steady_timer timer(ioc);
        auto last_write = std::chrono::steady_clock::now();
        while (!stopped) {
            std::string text = co_await on_worker([&] {
                try {
                    return response.stream();
                } catch (const std::exception& e) {
                    log::warn("web: event stream: ", e.what());
                    return std::string();
                }
            });
            const auto now = std::chrono::steady_clock::now();
            if (text.empty() && now - last_write >= options.stream_keepalive) text = ": keepalive\n\n";
            if (!text.empty()) {
                beast::get_lowest_layer(stream).expires_after(options.request_timeout);
                auto [write_ec, written] =
                    co_await asio::async_write(stream, asio::buffer(text), tuple_awaitable);
                if (write_ec) co_return;
                last_write = now;
            }
            timer.expires_after(options.stream_poll);
            co_await timer.async_wait(tuple_awaitable);
        }
    }
};

HttpServer::HttpServer(HttpServerOptions options, Router router, Gate gate)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(router), std::move(gate))) {
    auto& acceptor = impl_->acceptor;
    const auto& endpoint = impl_->options.endpoint;
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    if (endpoint.address().is_v6()) acceptor.set_option(boost::asio::ip::v6_only(false));
    bind_or_explain(acceptor, endpoint, "The web dashboard and API");
    acceptor.listen();
    boost::asio::co_spawn(impl_->ioc, impl_->accept_loop(), boost::asio::detached);
    impl_->network = std::thread([this] { impl_->ioc.run(); });
}

HttpServer::~HttpServer() {
    stop();
}

boost::asio::ip::tcp::endpoint HttpServer::local_endpoint() const {
    return impl_->acceptor.local_endpoint();
}

void HttpServer::stop() {
    if (impl_->stopped.exchange(true)) return;
    impl_->ioc.stop();
    if (impl_->network.joinable()) impl_->network.join();
    for (auto* pool : {&impl_->workers, &impl_->hashing}) {
        pool->stop();
        pool->join();
    }
}

}  // namespace bootherd::web
