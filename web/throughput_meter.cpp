#include "web/throughput_meter.hpp"

namespace bootherd::web {

std::pair<double, double> ThroughputMeter::sample(std::uint64_t read_total, std::uint64_t written_total,
                                                  std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (!primed_) {
        primed_ = true;
    } else {
        const double seconds = std::chrono::duration<double>(now - at_).count();
        if (seconds < 1.0) return {read_bps_, write_bps_};
        // Counters only grow; a smaller total means the server restarted: start over.
        read_bps_ = read_total >= read_ ? static_cast<double>(read_total - read_) / seconds : 0;
        write_bps_ = written_total >= written_ ? static_cast<double>(written_total - written_) / seconds : 0;
    }
    at_ = now;
    read_ = read_total;
    written_ = written_total;
    return {read_bps_, write_bps_};
}

}  // namespace bootherd::web
