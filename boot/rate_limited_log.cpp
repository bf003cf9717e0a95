#include "boot/rate_limited_log.hpp"

#include "common/log.hpp"

namespace bootherd::boot {

bool RateLimitedLog::warn(std::string_view message, Clock::time_point now) {
    if (now - interval_start_ >= interval_) {
        if (suppressed_ > 0) log::warn(suppressed_, " similar messages suppressed");
        interval_start_ = now;
        logged_in_interval_ = 0;
        suppressed_ = 0;
    }
    if (logged_in_interval_ >= burst_) {
        ++suppressed_;
        return false;
    }
    ++logged_in_interval_;
    log::warn(message);
    return true;
}

}  // namespace bootherd::boot
