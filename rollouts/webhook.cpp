#include "rollouts/webhook.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <charconv>

#include "common/log.hpp"

namespace bootherd::rollouts {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::size_t kUrlLimit = 2048;
constexpr std::size_t kResponseLimit = 64 * 1024;  // the receiver's answer is read, then ignored

std::string host_for_humans(const WebhookUrl& url) {
    return url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
}

bool valid_port(std::string_view text) {
    unsigned value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc{} && end == text.data() + text.size() && value >= 1 && value <= 65535 &&
           text.size() <= 5;
}

bool valid_host_name(std::string_view host) {
    if (host.empty() || host.size() > 253) return false;
    for (const char c : host)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '.'))
            return false;
    return true;
}

bool valid_ipv6(std::string_view host) {
    if (host.empty() || host.size() > 45) return false;
    for (const char c : host)
        if (!((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' ||
              c == '.'))
            return false;
    return true;
}

}  // namespace

std::string webhook_body(const db::Rollout& rollout, std::string_view kind) {
    boost::json::value stage = nullptr;
    if (rollout.current_stage >= 0 &&
        rollout.current_stage < static_cast<std::int64_t>(rollout.stages.size()))
        stage = {{"index", rollout.current_stage},
                 {"name", rollout.stages[static_cast<std::size_t>(rollout.current_stage)].name}};
    const boost::json::object body{{"event", "rollout." + std::string(kind)},
                                   {"rollout",
                                    {{"id", rollout.id},
                                     {"image", rollout.image},
                                     {"from_version", rollout.from_number},
                                     {"to_version", rollout.to_number},
                                     {"state", std::string(db::to_string(rollout.state))},
                                     {"stage", std::move(stage)},
                                     {"reason", rollout.reason},
                                     {"updated_at", rollout.updated_at}}}};
    return boost::json::serialize(body);
}

std::string WebhookUrl::loggable() const {
    return "http://" + host_for_humans(*this) + ":" + port + target.substr(0, target.find('?'));
}

std::optional<WebhookUrl> parse_webhook_url(std::string_view url) {
    constexpr std::string_view scheme = "http://";
    if (url.size() > kUrlLimit || url.size() <= scheme.size()) return std::nullopt;
    for (const char c : url)
        if (c <= 0x20 || c >= 0x7f) return std::nullopt;
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(url[i])) != scheme[i]) return std::nullopt;
    url.remove_prefix(scheme.size());
    url = url.substr(0, url.find('#'));
    const auto authority_end = url.find_first_of("/?");
    const std::string_view authority = url.substr(0, authority_end);
    const std::string_view rest = authority_end == std::string_view::npos ? "" : url.substr(authority_end);
    if (authority.find('@') != std::string_view::npos) return std::nullopt;  // no user info
    WebhookUrl out;
    std::string_view port = "80";
    if (authority.starts_with('[')) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        const auto host = authority.substr(1, close - 1);
        if (!valid_ipv6(host)) return std::nullopt;
        out.host = std::string(host);
        const auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') return std::nullopt;
            port = after.substr(1);
        }
    } else {
        const auto colon = authority.find(':');
        const auto host = authority.substr(0, colon);
        if (!valid_host_name(host)) return std::nullopt;
        out.host = std::string(host);
        if (colon != std::string_view::npos) port = authority.substr(colon + 1);
    }
    if (!valid_port(port)) return std::nullopt;
    out.port = std::string(port);
    out.target = rest.empty() ? "/" : rest.starts_with('?') ? "/" + std::string(rest) : std::string(rest);
    return out;
}

WebhookSender::WebhookSender(std::size_t max_queued, std::chrono::milliseconds timeout)
    : max_queued_(max_queued), timeout_(timeout), io_(1) {
    thread_ = std::thread([this] { run(); });
}

WebhookSender::~WebhookSender() {
    std::size_t dropped = 0;
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
        dropped = queue_.size();
        queue_.clear();
        io_.stop();  // ends the call in flight
    }
    wake_.notify_all();
    thread_.join();
    if (dropped > 0) log::warn("rollouts: ", dropped, " webhook call(s) not sent: the server is stopping");
}

bool WebhookSender::notify(const db::Rollout& rollout, std::string_view kind) {
    if (rollout.webhook_url.empty()) return false;
    return post(rollout.webhook_url, webhook_body(rollout, kind));
}

bool WebhookSender::post(std::string_view url, std::string body) {
    auto parsed = parse_webhook_url(url);
    const std::lock_guard lock(mutex_);
    if (!parsed) {
        // The URL itself is not logged: it may carry a token.
        drop_log_.warn("rollouts: webhook call dropped: its URL is not a plain http:// URL",
                       std::chrono::steady_clock::now());
        return false;
    }
    if (stopping_) return false;
    if (queue_.size() >= max_queued_) {
        drop_log_.warn("rollouts: webhook call to " + parsed->loggable() +
                           " dropped: " + std::to_string(max_queued_) + " calls are waiting already",
                       std::chrono::steady_clock::now());
        return false;
    }
    queue_.push_back(Call{std::move(*parsed), std::move(body)});
    wake_.notify_one();
    return true;
}

void WebhookSender::run() {
    for (;;) {
        Call call;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            call = std::move(queue_.front());
            queue_.pop_front();
        }
        try {
            send(call);
        } catch (const std::exception& e) {
            log::warn("rollouts: webhook ", call.url.loggable(), " failed: ", e.what());
        }
    }
}

// One POST, bounded by `timeout_` from resolving to the end of the answer. Runs io_ on this thread until
// the call is done; the destructor's io_.stop() ends it early.
void WebhookSender::send(const Call& call) {
    {
        const std::lock_guard lock(mutex_);
        if (stopping_) return;
        io_.restart();
    }
    tcp::resolver resolver(io_);
    beast::tcp_stream stream(io_);
    asio::steady_timer deadline(io_);
    http::request<http::string_body> request{http::verb::post, call.url.target, 11};
    request.set(http::field::host,
                host_for_humans(call.url) + (call.url.port == "80" ? "" : ":" + call.url.port));
    request.set(http::field::user_agent, "bootherd");
    request.set(http::field::content_type, "application/json");
    request.set(http::field::connection, "close");
    request.body() = call.body;
    request.prepare_payload();
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kResponseLimit);

    bool timed_out = false;
    std::string failure;  // empty: answered
    const auto fail = [&](std::string_view step, const boost::system::error_code& error) {
        failure = std::string(step) + ": " + (timed_out ? "no answer in time" : error.message());
        deadline.cancel();
        boost::system::error_code ignored;
        stream.socket().close(ignored);
    };
    deadline.expires_after(timeout_);
    deadline.async_wait([&](const boost::system::error_code& error) {
        if (error) return;
        timed_out = true;
        resolver.cancel();
        boost::system::error_code ignored;
        stream.socket().close(ignored);
    });
    using boost::system::error_code;
    resolver.async_resolve(
        call.url.host, call.url.port,
        [&](const error_code& resolved, const tcp::resolver::results_type& results) {
            if (resolved) return fail("resolving", resolved);
            stream.async_connect(results, [&](const error_code& connected, const tcp::endpoint&) {
                if (connected) return fail("connecting", connected);
                http::async_write(stream, request, [&](const error_code& written, std::size_t) {
                    if (written) return fail("sending", written);
                    http::async_read(stream, buffer, parser, [&](const error_code& read, std::size_t) {
                        if (read) return fail("reading the answer", read);
                        deadline.cancel();
                        error_code ignored;
                        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
                    });
                });
            });
        });
    io_.run();

    const auto where = call.url.loggable();
    if (failure.empty() && !parser.is_done()) return;  // stopped by the destructor
    if (!failure.empty())
        log::warn("rollouts: webhook ", where, " failed while ", failure);
    else if (const auto status = parser.get().result_int(); status < 200 || status > 299)
        log::warn("rollouts: webhook ", where, " answered HTTP ", status);
    else
        log::info("rollouts: webhook ", where, " answered HTTP ", status);
}

}  // namespace bootherd::rollouts
