#pragma once
// systemd's service notifications (Type=notify): READY=1 and STATUS= once the services run, WATCHDOG=1 pings
// at half the unit's WatchdogSec while they do, STOPPING=1 when a stop begins. Does nothing unless systemd
// started the process with a notification socket (NOTIFY_SOCKET set).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace bootherd::cli {

class ServiceNotifier {
  public:
    ServiceNotifier();
    ~ServiceNotifier();
    ServiceNotifier(const ServiceNotifier&) = delete;
    ServiceNotifier& operator=(const ServiceNotifier&) = delete;

    void ready(
        const std::string& status);  // READY=1 with STATUS=status; starts the watchdog pings if asked for
    void stopping();                 // STOPPING=1; ends the watchdog pings

  private:
    void ping_until_stopped(std::chrono::microseconds interval);
    void stop_pings();

    bool enabled_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    std::thread pinger_;
};

}  // namespace bootherd::cli
