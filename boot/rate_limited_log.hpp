#pragma once
// Keeps hostile or broken traffic from flooding the log: at most `burst` lines per interval, then a single
// "N similar messages suppressed" line when the next interval opens.
#include <chrono>
#include <cstddef>
#include <string_view>

namespace bootherd::boot {

class RateLimitedLog {
  public:
    using Clock = std::chrono::steady_clock;

    RateLimitedLog(std::size_t burst, Clock::duration interval) : burst_(burst), interval_(interval) {}

    // Logs `message` as a warning unless this interval's budget is spent. Returns whether it was logged.
    bool warn(std::string_view message, Clock::time_point now);
    std::size_t suppressed() const { return suppressed_; }

  private:
    std::size_t burst_;
    Clock::duration interval_;
    Clock::time_point interval_start_{};
    std::size_t logged_in_interval_ = 0;
    std::size_t suppressed_ = 0;
};

}  // namespace bootherd::boot
