#include "common/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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

char syslog_priority(Level l) {
    switch (l) {
        case Level::debug:
            return '7';
        case Level::info:
            return '6';
        case Level::warn:
            return '4';
        case Level::error:
            return '3';
    }
    return '6';
}

Format stderr_format() {
    static const Format format = std::getenv("JOURNAL_STREAM") != nullptr ? Format::journald : Format::plain;
    return format;
}

std::string utc_stamp_now() {
    auto now = std::chrono::system_clock::now();
    auto t = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    char text[40];
    std::snprintf(text, sizeof text, "%s.%03dZ", stamp, static_cast<int>(ms));
    return text;
}
}  // namespace

std::string format_line(Format format, Level level, std::string_view utc_stamp, std::string_view message) {
    std::string line;
    if (format == Format::journald) {
        line = {'<', syslog_priority(level), '>'};
    } else {
        char head[64];
        std::snprintf(head, sizeof head, "%.*s %-5s ", static_cast<int>(utc_stamp.size()), utc_stamp.data(),
                      name(level));
        line = head;
    }
    line.append(message);
    line.push_back('\n');
    return line;
}

void set_level(Level level) noexcept {
    g_level = level;
}
bool enabled(Level level) noexcept {
    return level >= g_level.load(std::memory_order_relaxed);
}

void write(Level level, std::string_view message) {
    const Format format = stderr_format();
    const std::string line =
        format_line(format, level, format == Format::plain ? utc_stamp_now() : std::string(), message);
    std::lock_guard lock(g_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace bootherd::log
