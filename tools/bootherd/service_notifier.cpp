#include "tools/bootherd/service_notifier.hpp"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <cstring>

#include "common/log.hpp"

namespace bootherd::cli {
namespace {

void notify(const std::string& state) {
    const int rc = sd_notify(0, state.c_str());
    if (rc < 0) log::warn("systemd notification failed: ", std::strerror(-rc));
}

}  // namespace

ServiceNotifier::ServiceNotifier() : enabled_(std::getenv("NOTIFY_SOCKET") != nullptr) {}

ServiceNotifier::~ServiceNotifier() {
    stop_pings();
}

void ServiceNotifier::ready(const std::string& status) {
    if (!enabled_) return;
    notify("READY=1\nSTATUS=" + status);
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
        pinger_ = std::thread([this, usec] { ping_until_stopped(std::chrono::microseconds(usec / 2)); });
}

void ServiceNotifier::stopping() {
    if (!enabled_) return;
    stop_pings();
    notify("STOPPING=1\nSTATUS=stopping");
}

void ServiceNotifier::ping_until_stopped(std::chrono::microseconds interval) {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, interval, [this] { return stop_; }))
        notify("WATCHDOG=1");
}

void ServiceNotifier::stop_pings() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (pinger_.joinable()) pinger_.join();
}

}  // namespace bootherd::cli
