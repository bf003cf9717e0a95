#pragma once
// Minimal thread-safe logging to stderr: one line per call, with a UTC timestamp and level.
// Not for the I/O hot path: callers log events (logins, errors), never per command.
#include <sstream>
#include <string_view>

namespace bootherd::log {

enum class Level { debug, info, warn, error };

void set_level(Level level) noexcept;
bool enabled(Level level) noexcept;
void write(Level level, std::string_view message);

template <class... Args>
void emit(Level level, const Args&... args) {
    if (!enabled(level)) return;
    std::ostringstream os;
    (os << ... << args);
    write(level, os.str());
}

template <class... Args>
void debug(const Args&... args) {
    emit(Level::debug, args...);
}
template <class... Args>
void info(const Args&... args) {
    emit(Level::info, args...);
}
template <class... Args>
void warn(const Args&... args) {
    emit(Level::warn, args...);
}
template <class... Args>
void error(const Args&... args) {
    emit(Level::error, args...);
}

}  // namespace bootherd::log
