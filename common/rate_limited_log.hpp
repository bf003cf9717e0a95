#pragma once
// Keeps hostile or broken traffic, or a failing disk, from flooding the log: at most `burst` lines per
// interval, then a single "N similar messages suppressed" line when the next interval opens. Not
// thread-safe: a limiter shared by threads needs its owner's lock.
#include <chrono>
#include <cstddef>
#include <string_view>

#include "common/log.hpp"

namespace bootherd {

class RateLimitedLog {
  public:
    using Clock = std::chrono::steady_clock;

    RateLimitedLog(std::size_t burst, Clock::duration interval) : burst_(burst), interval_(interval) {}

    // Logs `message` as a warning (or an error, or info) unless this interval's budget is spent. Returns
    // whether it was logged.
    bool info(std::string_view message, Clock::time_point now) {
        return write(log::Level::info, message, now);
    }
    bool warn(std::string_view message, Clock::time_point now) {
        return write(log::Level::warn, message, now);
    }
    bool error(std::string_view message, Clock::time_point now) {
        return write(log::Level::error, message, now);
    }
    std::size_t suppressed() const { return suppressed_; }

  private:
    bool write(log::Level level, std::string_view message, Clock::time_point now);

    std::size_t burst_;
    Clock::duration interval_;
    Clock::time_point interval_start_{};
    std::size_t logged_in_interval_ = 0;
    std::size_t suppressed_ = 0;
};

}  // namespace bootherd
