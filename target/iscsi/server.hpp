#pragma once
// The iSCSI target server: listens on portals, runs logins and sessions, drives each target's SCSI device.
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "target/iscsi/redirect.hpp"
#include "target/iscsi/server_stats.hpp"
#include "target/iscsi/target_directory.hpp"

namespace bootherd::iscsi {

// A normal session's milestones, for the web UI's live view. Discovery sessions raise none.
struct SessionEvent {
    enum class Kind {
        login,       // entered full feature phase
        logout,      // ended, whatever the reason (Logout, close, reinstatement, timeout)
        first_read,  // the session's first READ command: the machine has started booting from the disk
    } kind;
    std::string initiator_name, target_iqn, peer;
};

struct ServerOptions {
    std::vector<boost::asio::ip::tcp::endpoint> listen;  // port 0 allowed (tests)
    unsigned network_threads = 0;                        // 0: one per core
    unsigned disk_threads = 0;                           // 0: 4 per core, at least 8
    // Tasks of one session running on the disk pool at once: a boot storm's sessions share the pool fairly.
    unsigned disk_tasks_per_session = 4;
    std::chrono::seconds idle_timeout{120};  // reap connections idle this long (iPXE abandons sessions)
    std::chrono::seconds login_timeout{15};  // a connection must finish its login within this
    // A session idle this long gets a NOP-In ping (0: never). An unanswered ping is only logged: iPXE never
    // answers; keepalive and idle_timeout reap dead connections. Initiators that answer stay alive while
    // idle.
    std::chrono::seconds nop_in_interval{30};
    std::size_t max_connections = 4096;
    // Connections from one initiator address (logged in or not). At this cap a new connection replaces the
    // address's oldest one still in login phase, or is closed if there is none.
    std::size_t max_connections_per_address = 16;
    // Normal sessions per target: a machine's firmware (iPXE) and its OS each hold one. A powered-off machine
    // leaves both open, so at the cap a login from an address that already has sessions on the target
    // replaces the oldest of them; a login from another address is refused (0 = no cap).
    std::size_t max_sessions_per_target = 2;
    // Task buffer memory one session may hold (grow-only buffers and the Data-In not yet written to the
    // socket, which is sent from them). Past it the session's socket is not read until its own responses
    // drain, so an initiator that never reads its answers is stopped by TCP back-pressure.
    std::size_t max_session_buffer_bytes = 32u << 20;
    std::uint32_t queue_depth = 128;  // CmdSN window per session
    std::uint16_t portal_group_tag = 1;
    // Called on a network thread, so it must be cheap and must not block; empty: no events.
    std::function<void(const SessionEvent&)> on_session_event;
    // Sends normal-session logins of machines this server does not home to the server that does (see
    // redirect.hpp); empty: every login is served here.
    LoginRouter login_router;
};

struct SessionInfo {
    std::string initiator_name, target_iqn, peer;
    std::uint64_t isid = 0;
    std::uint64_t bytes_read = 0, bytes_written = 0, commands = 0;
};

class Server {
  public:
    Server(ServerOptions options, std::shared_ptr<TargetDirectory> targets);
    ~Server();  // stops
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    void start();  // binds + accepts; throws std::system_error on bind failure
    std::vector<boost::asio::ip::tcp::endpoint> local_endpoints() const;
    // Graceful: stop accepting, let in-flight commands finish, flush every device, close connections.
    // Must not be called from a network thread. False when a device's final flush failed.
    bool stop();
    void wait();  // blocks until stopped
    std::vector<SessionInfo> sessions() const;
    // Counters since start(); cheap (relaxed atomic loads), callable from any thread.
    ServerStats stats() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace bootherd::iscsi
