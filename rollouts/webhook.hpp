#pragma once
// Tells an outside system that a rollout halted or succeeded: an HTTP POST of a JSON document to the
// rollout's webhook URL, from a thread of its own so a slow or dead receiver never holds up the server.
// At most `max_queued` calls wait (later ones are dropped with a log line); each has a 10 s timeout and is
// not retried. Plain http:// only.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "common/rate_limited_log.hpp"
#include "db/rollouts_repo.hpp"

namespace bootherd::rollouts {

// {"event":"rollout.halted","rollout":{...}} with the rollout's id, image, versions, state, stage and reason.
std::string webhook_body(const db::Rollout& rollout, std::string_view kind);

// An http:// URL taken apart: "http://host[:port][/path][?query]".
struct WebhookUrl {
    std::string host{};    // a name, an IPv4 address or an IPv6 address (without its brackets)
    std::string port{};    // "80" when the URL names none
    std::string target{};  // path and query, as sent in the request line ("/" when empty)

    // scheme://host:port/path, without the query (which may carry a token): the only form that is logged.
    std::string loggable() const;
};

// nullopt unless `url` is a plain http:// URL with a host, an optional port in 1..65535, no user info, and
// only printable ASCII without spaces.
std::optional<WebhookUrl> parse_webhook_url(std::string_view url);

class WebhookSender {
  public:
    static constexpr std::size_t kDefaultMaxQueued = 16;
    static constexpr std::chrono::milliseconds kDefaultTimeout{10'000};

    explicit WebhookSender(std::size_t max_queued = kDefaultMaxQueued,
                           std::chrono::milliseconds timeout = kDefaultTimeout);
    // Stops the call in flight and drops the ones still waiting (with a log line), then joins the thread.
    ~WebhookSender();
    WebhookSender(const WebhookSender&) = delete;
    WebhookSender& operator=(const WebhookSender&) = delete;

    // Queues a POST of `body` (JSON) to `url`; never blocks on the network. False when it was dropped: the
    // URL is not a plain http:// one, or the queue is full.
    bool post(std::string_view url, std::string body);
    // Queues webhook_body(rollout, kind) to the rollout's webhook URL, if it has one.
    bool notify(const db::Rollout& rollout, std::string_view kind);

  private:
    struct Call {
        WebhookUrl url;
        std::string body;
    };
    void run();
    void send(const Call& call);

    const std::size_t max_queued_;
    const std::chrono::milliseconds timeout_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Call> queue_;
    bool stopping_ = false;
    RateLimitedLog drop_log_{1, std::chrono::minutes(1)};
    boost::asio::io_context io_;  // runs one call at a time on the thread
    std::thread thread_;          // last: started when everything above exists
};

}  // namespace bootherd::rollouts
