#pragma once
// Bytes per second from monotonically growing byte counters, sampled whenever someone asks (the overview).
#include <chrono>
#include <cstdint>
#include <mutex>
#include <utility>

namespace bootherd::web {

class ThroughputMeter {
  public:
    // The rates since the previous sample at least a second old; the previous rates when asked sooner.
    std::pair<double, double> sample(
        std::uint64_t read_total, std::uint64_t written_total,
        std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  private:
    std::mutex mutex_;
    bool primed_ = false;
    std::chrono::steady_clock::time_point at_{};
    std::uint64_t read_ = 0, written_ = 0;
    double read_bps_ = 0, write_bps_ = 0;
};

}  // namespace bootherd::web
