#include "replication/file_download.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <charconv>
#include <system_error>
#include <vector>

namespace bootherd::replication {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kPiece = 128 * 1024;
constexpr std::size_t kErrorTextLimit = 300;  // of an error answer's body, quoted in our error

std::string describe(const beast::error_code& ec) {
    return ec == beast::error::timeout ? std::string("timed out") : ec.message();
}

std::optional<std::uint64_t> decimal(std::string_view text) {
    std::uint64_t value = 0;
    const auto end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc{} || stop != end) return std::nullopt;
    return value;
}

// Printable ASCII only: the text comes from the peer and ends up in logs.
std::string printable(std::string_view text) {
    std::string out;
    for (const char c : text.substr(0, kErrorTextLimit))
        out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return out;
}

DownloadHead check_head(const http::response_parser<http::buffer_body>& parser, std::uint64_t offset) {
    const auto& head = parser.get();
    DownloadHead answer;
    if (auto etag = head.find(http::field::etag); etag != head.end())
        answer.sha256 = sha256_etag(etag->value());
    const auto length = parser.content_length();
    if (!length) throw DownloadError("the answer has no Content-Length");
    if (head.result() == http::status::ok) {
        answer.total = *length;
        return answer;
    }
    const auto header = head.find(http::field::content_range);
    const auto range = header == head.end() ? std::nullopt : parse_content_range(header->value());
    if (!range || range->first != offset || range->last + 1 != range->total ||
        *length != range->total - range->first)
        throw DownloadError("the answer is not the file from byte " + std::to_string(offset) + " on");
    answer.offset = range->first;
    answer.total = range->total;
    return answer;
}

template <class Stream>
asio::awaitable<void> exchange(Stream& stream, const DownloadRequest& request,
                               const DownloadTimeouts& timeouts, const DownloadHandlers& handlers) {
    auto& socket = beast::get_lowest_layer(stream);
    http::request<http::empty_body> message{http::verb::get, request.target, 11};
    message.set(http::field::host, request.peer.host_header());
    message.set(http::field::user_agent, "bootherd-replication");
    message.set(http::field::authorization, "Bearer " + request.bearer_token);
    if (request.offset > 0) message.set(http::field::range, "bytes=" + std::to_string(request.offset) + "-");
    message.keep_alive(false);
    socket.expires_after(timeouts.read);
    if (auto [ec, n] = co_await http::async_write(stream, message, tuple_awaitable); ec)
        throw DownloadError("sending the request: " + describe(ec));

    beast::flat_buffer buffer;
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);
    socket.expires_after(timeouts.read);
    if (auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, tuple_awaitable); ec)
        throw DownloadError("reading the answer: " + describe(ec));
    const auto status = parser.get().result();
    const bool ok = status == http::status::ok || status == http::status::partial_content;
    std::optional<DownloadHead> head;
    if (ok) {
        head = check_head(parser, request.offset);
        handlers.head(*head);
    }

    std::vector<char> piece(kPiece);
    std::string error_text;
    std::uint64_t received = 0;
    while (!parser.is_done() && (ok || error_text.size() < kErrorTextLimit)) {
        parser.get().body().data = piece.data();
        parser.get().body().size = piece.size();
        socket.expires_after(timeouts.read);
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, tuple_awaitable);
        if (ec == http::error::need_buffer) ec = {};
        if (ec) {
            if (!ok) break;
            throw DownloadError("the transfer broke off after " + std::to_string(head->offset + received) +
                                " of " + std::to_string(head->total) + " bytes: " + describe(ec));
        }
        const auto got = piece.size() - parser.get().body().size;
        if (ok && got > 0) handlers.body(std::span<const char>(piece.data(), got));
        if (!ok) error_text.append(piece.data(), got);
        received += got;
    }
    if (!ok)
        throw DownloadError("HTTP " + std::to_string(static_cast<unsigned>(status)) + " " +
                                std::string(http::obsolete_reason(status)) +
                                (error_text.empty() ? "" : ": " + printable(error_text)),
                            status == http::status::range_not_satisfiable);
}

asio::awaitable<void> run(const DownloadRequest& request, asio::ssl::context* tls,
                          const DownloadTimeouts& timeouts, const DownloadHandlers& handlers) {
    auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    auto [resolve_ec, endpoints] = co_await resolver.async_resolve(
        request.peer.host, std::to_string(request.peer.port), tuple_awaitable);
    if (resolve_ec) throw DownloadError("cannot resolve " + request.peer.host + ": " + resolve_ec.message());
    beast::tcp_stream socket(executor);
    socket.expires_after(timeouts.connect);
    if (auto [ec, endpoint] = co_await socket.async_connect(endpoints, tuple_awaitable); ec)
        throw DownloadError("cannot connect to " + request.peer.host_header() + ": " + describe(ec));
    if (!tls) {
        co_await exchange(socket, request, timeouts, handlers);
        co_return;
    }
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls);
    boost::system::error_code not_an_address;
    asio::ip::make_address(request.peer.host, not_an_address);
    if (not_an_address)  // SNI; SSL_set_tlsext_host_name is a macro with a C cast
        SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(request.peer.host.c_str()));
    stream.set_verify_callback(asio::ssl::host_name_verification(request.peer.host));
    beast::get_lowest_layer(stream).expires_after(timeouts.connect);
    if (auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::client, tuple_awaitable); ec)
        throw DownloadError("TLS with " + request.peer.host_header() + " failed: " + describe(ec));
    co_await exchange(stream, request, timeouts, handlers);
}

}  // namespace

void download(const DownloadRequest& request, asio::ssl::context* tls, const DownloadTimeouts& timeouts,
              const DownloadHandlers& handlers) {
    if (request.peer.tls && !tls) throw DownloadError("no TLS context for " + request.peer.host_header());
    asio::io_context context(1);
    std::exception_ptr failure;
    asio::co_spawn(context, run(request, request.peer.tls ? tls : nullptr, timeouts, handlers),
                   [&failure](std::exception_ptr e) { failure = e; });
    context.run();
    if (failure) std::rethrow_exception(failure);
}

std::optional<ContentRange> parse_content_range(std::string_view header) {
    constexpr std::string_view unit = "bytes ";
    if (!header.starts_with(unit)) return std::nullopt;
    header.remove_prefix(unit.size());
    const auto dash = header.find('-');
    const auto slash = header.find('/');
    if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash)
        return std::nullopt;
    const auto first = decimal(header.substr(0, dash));
    const auto last = decimal(header.substr(dash + 1, slash - dash - 1));
    const auto total = decimal(header.substr(slash + 1));
    if (!first || !last || !total || *first > *last || *last >= *total) return std::nullopt;
    return ContentRange{*first, *last, *total};
}

std::optional<std::string> sha256_etag(std::string_view header) {
    if (header.size() != 66 || header.front() != '"' || header.back() != '"') return std::nullopt;
    std::string hex;
    for (const char c : header.substr(1, 64)) {
        const char lower = (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
        if (!((lower >= '0' && lower <= '9') || (lower >= 'a' && lower <= 'f'))) return std::nullopt;
        hex += lower;
    }
    return hex;
}

asio::ssl::context client_tls(const std::string& ca_file) {
    asio::ssl::context context(asio::ssl::context::tls_client);
    context.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                        asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                        asio::ssl::context::no_tlsv1_1);
    context.set_verify_mode(asio::ssl::verify_peer);
    boost::system::error_code ec;
    if (ca_file.empty())
        context.set_default_verify_paths(ec);
    else
        context.load_verify_file(ca_file, ec);
    if (ec)
        throw std::system_error(ec, "cannot load the peers' CA certificates" +
                                        (ca_file.empty() ? std::string() : " from " + ca_file));
    return context;
}

}  // namespace bootherd::replication
