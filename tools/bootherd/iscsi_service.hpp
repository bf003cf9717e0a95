#pragma once
// The iSCSI server as `share` and `serve` run it: bound and logging on construction, stopped gracefully
// (in-flight commands finish, devices are flushed) by stop() or the destructor.
#include <CLI/CLI.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "target/iscsi/server.hpp"
#include "target/iscsi/target_directory.hpp"

namespace bootherd::cli {

// The bounds an admin tunes on `serve` and `share`; defaults from iscsi::ServerOptions.
struct IscsiLimits {
    std::size_t max_connections = iscsi::ServerOptions{}.max_connections;
    std::size_t max_connections_per_address = iscsi::ServerOptions{}.max_connections_per_address;
    std::size_t max_sessions_per_target = iscsi::ServerOptions{}.max_sessions_per_target;
    std::size_t max_session_buffer_mib = iscsi::ServerOptions{}.max_session_buffer_bytes >> 20;
};
void add_iscsi_limit_options(CLI::App& command, IscsiLimits& limits);

class IscsiService {
  public:
    // Binds every `listen` ADDR:PORT and logs "serving <what> on ADDR:PORT" for each (tests read the port
    // from that line). `on_session_event` (may be empty) is called on network threads: it must not block.
    // `login_router` (may be empty) redirects logins to other servers (iscsi::LoginRouter).
    // Throws std::system_error when a bind fails.
    IscsiService(const std::vector<std::string>& listen, unsigned threads, const IscsiLimits& limits,
                 std::shared_ptr<iscsi::TargetDirectory> targets, const std::string& what,
                 std::function<void(const iscsi::SessionEvent&)> on_session_event = {},
                 iscsi::LoginRouter login_router = {});
    ~IscsiService();
    IscsiService(const IscsiService&) = delete;
    IscsiService& operator=(const IscsiService&) = delete;

    iscsi::Server& server() { return server_; }
    const std::vector<boost::asio::ip::tcp::endpoint>& endpoints() const { return endpoints_; }
    // False when a disk's final flush failed: writes acknowledged since its last good flush may be lost.
    bool stop();

  private:
    iscsi::Server server_;
    std::vector<boost::asio::ip::tcp::endpoint> endpoints_;
    bool stopped_ = false;
    bool flushed_ = true;
};

}  // namespace bootherd::cli
