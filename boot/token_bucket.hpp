#pragma once
// A token bucket: `rate` tokens a second, at most `burst` saved up. Bounds how often something an outsider
// can trigger (a new unknown client, an enrolment, an event) may happen. Pure: the caller passes the time.
#include <algorithm>
#include <chrono>

namespace bootherd::boot {

template <class Clock>
class TokenBucket {
  public:
    // Starts full. A rate of 0 never refills, a burst of 0 never allows anything.
    TokenBucket(double rate_per_second, double burst)
        : rate_(std::max(0.0, rate_per_second)), burst_(std::max(0.0, burst)), tokens_(burst_) {}

    // Takes one token if there is one.
    bool take(typename Clock::time_point now) {
        refill(now);
        if (tokens_ < 1.0) return false;
        tokens_ -= 1.0;
        return true;
    }

  private:
    void refill(typename Clock::time_point now) {
        if (!started_) {
            started_ = true;
            last_ = now;
            return;
        }
        // A clock that went backwards refills nothing.
        if (now > last_) {
            const double elapsed = std::chrono::duration<double>(now - last_).count();
            tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
            last_ = now;
        }
    }

    double rate_;
    double burst_;
    double tokens_;
    bool started_ = false;
    typename Clock::time_point last_{};
};

}  // namespace bootherd::boot
