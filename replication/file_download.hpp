#pragma once
// One GET of a file from another server's web service (Boost.Beast over HTTPS, or HTTP where configured),
// from an offset on: the body is handed over in pieces as it arrives, never held whole. Every step has a
// deadline. The answer's headers are untrusted input: parsed here, bounds-checked.
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "replication/peer_url.hpp"

namespace bootherd::replication {

struct DownloadTimeouts {
    std::chrono::milliseconds connect{std::chrono::seconds(10)};  // resolve, connect and TLS handshake
    std::chrono::milliseconds read{std::chrono::seconds(30)};     // each read or write after that
};

// What the source answered before the body.
struct DownloadHead {
    std::uint64_t offset = 0;  // where the body starts in the file: the offset asked for, or 0 (whole file)
    std::uint64_t total = 0;   // the file's size
    std::optional<std::string> sha256{};  // the ETag, when it is a SHA-256 in hex
};

struct DownloadHandlers {
    std::function<void(const DownloadHead&)> head{};
    std::function<void(std::span<const char>)> body{};
};

class DownloadError : public std::runtime_error {
  public:
    DownloadError(const std::string& message, bool range_refused = false)
        : std::runtime_error(message), range_refused_(range_refused) {}
    bool range_refused() const noexcept { return range_refused_; }  // 416: the offset is past the file's end

  private:
    bool range_refused_;
};

struct DownloadRequest {
    PeerUrl peer{};
    std::string target{};  // path on the peer
    std::string bearer_token{};
    std::uint64_t offset = 0;  // > 0: "Range: bytes=<offset>-"
};

// Runs the request on the calling thread (a private io_context). `tls` verifies the peer; null only for a
// plain-HTTP peer. Throws DownloadError for a failed connection, a timeout, a status other than 200 and
// 206 (quoting the server's error), or an answer that is not the file from the offset asked for; whatever
// the handlers throw passes through.
void download(const DownloadRequest& request, boost::asio::ssl::context* tls,
              const DownloadTimeouts& timeouts, const DownloadHandlers& handlers);

struct ContentRange {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    std::uint64_t total = 0;
};
// "bytes first-last/total" with first <= last < total; nullopt otherwise.
std::optional<ContentRange> parse_content_range(std::string_view header);
// A strong ETag holding 64 hex digits ("\"ab..\""), lower-cased; nullopt otherwise.
std::optional<std::string> sha256_etag(std::string_view header);

// A TLS client context that verifies servers against the PEM certificates in `ca_file` (the CA that signed
// the peers' --tls-cert, or those certificates themselves), or the system's trust store when it is empty.
// Throws std::system_error naming the file when it cannot be loaded.
boost::asio::ssl::context client_tls(const std::string& ca_file);

}  // namespace bootherd::replication
