#pragma once
// Minimal thread-safe logging to stderr: one line per call, with a UTC timestamp and level. When stderr goes
// to journald (JOURNAL_STREAM is set), each line starts with its syslog priority instead (`<3>` error, `<4>`
// warn, `<6>` info, `<7>` debug) and carries no timestamp: journald stamps and filters lines itself.
// Not for the I/O hot path: callers log events (logins, errors), never per command.
#include <sstream>
#include <string>
#include <string_view>

namespace bootherd::log {

enum class Level { debug, info, warn, error };

void set_level(Level level) noexcept;
bool enabled(Level level) noexcept;
void write(Level level, std::string_view message);

enum class Format { plain, journald };
// One line, newline included. `utc_stamp` ("2026-12-03T22:12:32.120Z") is left out of the journald format.
std::string format_line(Format format, Level level, std::string_view utc_stamp, std::string_view message);

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
