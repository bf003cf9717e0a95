#include "common/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace bootherd::log {
namespace {
std::atomic<Level> g_level{Level::info};  // process-wide by nature: stderr is one stream
std::mutex g_mutex;

const char* name(Level l) {
    switch (l) {
        case Level::debug:
            return "debug";
        case Level::info:
            return "info";
        case Level::warn:
            return "warn";
        case Level::error:
            return "error";
    }
    return "?";
}
}  // namespace

void set_level(Level level) noexcept {
    g_level = level;
}
bool enabled(Level level) noexcept {
    return level >= g_level.load(std::memory_order_relaxed);
}

void write(Level level, std::string_view message) {
    auto now = std::chrono::system_clock::now();
    auto t = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    std::lock_guard lock(g_mutex);
    std::fprintf(stderr, "%s.%03dZ %-5s %.*s\n", stamp, static_cast<int>(ms), name(level),
                 static_cast<int>(message.size()), message.data());
}

}  // namespace bootherd::log
