#pragma once
// Hands the iSCSI server's session events (login, logout, first read) to the boot services. The iSCSI server
// starts before the boot services and stops after them, so its callback goes through this relay: events
// before attach() or after detach() are dropped. Cheap and non-blocking, as the iSCSI network threads
// require.
#include <functional>
#include <mutex>

#include "target/iscsi/server.hpp"

namespace bootherd::cli {

class SessionEventRelay {
  public:
    using Sink = std::function<void(const iscsi::SessionEvent&)>;

    // For iscsi::ServerOptions::on_session_event; the relay must outlive the server.
    Sink callback() {
        return [this](const iscsi::SessionEvent& event) { forward(event); };
    }
    void attach(Sink sink) {
        const std::lock_guard lock(mutex_);
        sink_ = std::move(sink);
    }
    void detach() { attach({}); }

  private:
    void forward(const iscsi::SessionEvent& event) {
        const std::lock_guard lock(mutex_);
        if (sink_) sink_(event);
    }

    std::mutex mutex_;
    Sink sink_;
};

}  // namespace bootherd::cli
