#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "rollouts/webhook.hpp"

using namespace bootherd;
using namespace bootherd::rollouts;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

struct Received {
    std::string target, content_type, body;
};

// Accepts one connection on 127.0.0.1, reads one request and answers `status`.
class OneShotListener {
  public:
    explicit OneShotListener(http::status status = http::status::no_content)
        : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        port_ = acceptor_.local_endpoint().port();
        received_ = std::async(std::launch::async, [this, status] {
            tcp::socket socket(io_);
            acceptor_.accept(socket);
            boost::beast::flat_buffer buffer;
            http::request<http::string_body> request;
            http::read(socket, buffer, request);
            http::response<http::string_body> response{status, 11};
            response.prepare_payload();
            http::write(socket, response);
            return Received{std::string(request.target()), std::string(request[http::field::content_type]),
                            request.body()};
        });
    }
    std::uint16_t port() const { return port_; }
    Received received() {
        REQUIRE(received_.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
        return received_.get();
    }

  private:
    asio::io_context io_;
    tcp::acceptor acceptor_;
    std::uint16_t port_ = 0;
    std::future<Received> received_;
};

db::Rollout sample_rollout(std::string url) {
    db::Rollout rollout;
    rollout.id = 7;
    rollout.image = "desk";
    rollout.from_number = 2;
    rollout.to_number = 3;
    rollout.state = db::RolloutState::rolled_back;
    rollout.reason = "canary: pc1 failed (no_os_login)";
    rollout.webhook_url = std::move(url);
    rollout.stages.push_back(db::RolloutStage{.index = 0, .name = "canary"});
    return rollout;
}

// A port nothing listens on: bound, then closed again.
std::uint16_t dead_port() {
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return acceptor.local_endpoint().port();
}

}  // namespace

TEST_CASE("webhook URLs: plain http with a host, port and path; the query is never in the loggable form") {
    const auto url = parse_webhook_url("http://hooks.example:8080/rollouts?token=s3cret");
    REQUIRE(url);
    CHECK(url->host == "hooks.example");
    CHECK(url->port == "8080");
    CHECK(url->target == "/rollouts?token=s3cret");
    CHECK(url->loggable() == "http://hooks.example:8080/rollouts");

    const auto bare = parse_webhook_url("HTTP://10.0.0.1");
    REQUIRE(bare);
    CHECK(bare->port == "80");
    CHECK(bare->target == "/");
    const auto v6 = parse_webhook_url("http://[::1]:9/x#frag");
    REQUIRE(v6);
    CHECK(v6->host == "::1");
    CHECK(v6->target == "/x");
    CHECK(v6->loggable() == "http://[::1]:9/x");
    CHECK(parse_webhook_url("http://h?t=1")->target == "/?t=1");

    for (const char* bad : {"", "http://", "https://h/", "ftp://h/", "http://user:pw@h/", "http://h:0/",
                            "http://h:65536/", "http://h:80x/", "http://h:/", "http://[::1/", "http://h o/",
                            "http://h/a b", "http://h_1/", "http://[zz]/", "http://h:99999999999999999999/"})
        CHECK_MESSAGE(!parse_webhook_url(bad), bad);
    CHECK(!parse_webhook_url("http://h/" + std::string(3000, 'a')));
}

TEST_CASE("webhook body names the event and the rollout") {
    const auto body = boost::json::parse(webhook_body(sample_rollout(""), "halted")).as_object();
    CHECK(body.at("event").as_string() == "rollout.halted");
    const auto& rollout = body.at("rollout").as_object();
    CHECK(rollout.at("id").as_int64() == 7);
    CHECK(rollout.at("image").as_string() == "desk");
    CHECK(rollout.at("from_version").as_int64() == 2);
    CHECK(rollout.at("to_version").as_int64() == 3);
    CHECK(rollout.at("state").as_string() == "rolled_back");
    CHECK(rollout.at("stage").at("name").as_string() == "canary");
    CHECK(rollout.at("reason").as_string() == "canary: pc1 failed (no_os_login)");
}

TEST_CASE("the sender POSTs the JSON body to the URL's path and query") {
    OneShotListener listener;
    WebhookSender sender;
    const auto rollout =
        sample_rollout("http://127.0.0.1:" + std::to_string(listener.port()) + "/hook?token=abc");
    CHECK(sender.notify(rollout, "halted"));
    const auto received = listener.received();
    CHECK(received.target == "/hook?token=abc");
    CHECK(received.content_type == "application/json");
    CHECK(received.body == webhook_body(rollout, "halted"));
}

TEST_CASE("a rollout without a webhook or with a bad URL sends nothing") {
    WebhookSender sender;
    CHECK(!sender.notify(sample_rollout(""), "succeeded"));
    CHECK(!sender.notify(sample_rollout("https://127.0.0.1/"), "succeeded"));
}

TEST_CASE("a dead port neither blocks the caller nor the sender's next call") {
    const auto start = std::chrono::steady_clock::now();
    OneShotListener listener;
    {
        WebhookSender sender;
        CHECK(sender.post("http://127.0.0.1:" + std::to_string(dead_port()) + "/", "{}"));
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500));
        CHECK(sender.post("http://127.0.0.1:" + std::to_string(listener.port()) + "/next", "{\"n\":2}"));
        CHECK(listener.received().body == "{\"n\":2}");
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("a full queue drops calls, and the destructor ends a hanging call at once") {
    // A listener that never accepts: connecting succeeds (the kernel's backlog), the answer never comes.
    asio::io_context io;
    tcp::acceptor silent(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto url = "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/";
    const auto start = std::chrono::steady_clock::now();
    {
        WebhookSender sender(2, std::chrono::seconds(30));
        int queued = 0;
        for (int i = 0; i < 10; ++i)
            queued += sender.post(url, "{}") ? 1 : 0;
        CHECK(queued >= 2);
        CHECK(queued <= 3);  // two waiting, at most one taken by the thread already
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500));
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

TEST_CASE("a receiver that does not answer in time is given up on") {
    asio::io_context io;
    tcp::acceptor silent(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto silent_url = "http://127.0.0.1:" + std::to_string(silent.local_endpoint().port()) + "/";
    OneShotListener listener;
    WebhookSender sender(4, std::chrono::milliseconds(300));
    const auto start = std::chrono::steady_clock::now();
    CHECK(sender.post(silent_url, "{}"));
    CHECK(sender.post("http://127.0.0.1:" + std::to_string(listener.port()) + "/after", "{}"));
    CHECK(listener.received().target == "/after");
    const auto waited = std::chrono::steady_clock::now() - start;
    CHECK(waited >= std::chrono::milliseconds(250));
    CHECK(waited < std::chrono::seconds(5));
}
