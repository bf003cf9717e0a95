#include "common/rate_limited_log.hpp"

namespace bootherd {

bool RateLimitedLog::write(log::Level level, std::string_view message, Clock::time_point now) {
    if (now - interval_start_ >= interval_) {
        if (suppressed_ > 0) log::emit(level, suppressed_, " similar messages suppressed");
        interval_start_ = now;
        logged_in_interval_ = 0;
        suppressed_ = 0;
    }
    if (logged_in_interval_ >= burst_) {
        ++suppressed_;
        return false;
    }
    ++logged_in_interval_;
    log::write(level, message);
    return true;
}

}  // namespace bootherd
