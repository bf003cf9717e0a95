#pragma once
// What GET /api/v1/server tells about the running `serve`: the facts it was started with (start time, DHCP
// configuration, HTTP listeners), the host's network interfaces and the image store's disk usage.
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace bootherd::web {

struct DhcpFacts {
    std::string mode = "off";  // off | proxy | full
    std::string interface {};  // empty: none given
    struct Range {
        std::string first, last;
    };
    std::optional<Range> range{};  // full mode's pool
};

struct ServerFacts {
    std::int64_t started_at = 0;  // UTC milliseconds
    DhcpFacts dhcp{};
    // Where the web service listens (known once it is bound); empty while it is not.
    std::function<std::vector<boost::asio::ip::tcp::endpoint>()> http_listeners{};
    // GET /api/v1/servers: a server silent for longer is down (serve's --server-timeout-seconds).
    std::int64_t heartbeat_timeout_ms = 30'000;
};

struct HostInterface {
    std::string name{};
    std::string mac{};                     // aa:bb:cc:dd:ee:ff; empty when it has none (loopback, tunnels)
    std::vector<std::string> addresses{};  // "address/prefix", IPv4 and IPv6
    bool up = false;
};

// At most this many interfaces and addresses per interface are listed.
constexpr std::size_t kMaxHostInterfaces = 256;
constexpr std::size_t kMaxInterfaceAddresses = 32;

// The host's interfaces (getifaddrs), by name. Throws std::system_error when they cannot be read.
std::vector<HostInterface> host_interfaces();

struct FileSystemSpace {
    std::uint64_t total = 0, free = 0;  // bytes; free: what an unprivileged process may still use
};
// Throws std::system_error.
FileSystemSpace file_system_space(const std::filesystem::path& path);

}  // namespace bootherd::web
