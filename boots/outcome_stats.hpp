#pragma once
// Ended boots counted per image version, for /metrics: how many ended ok and failed, and how long the ok ones
// took from their start to ok. Counts since this process started, as Prometheus counters are. Thread-safe.
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "db/boots_repo.hpp"

namespace bootherd::boots {

struct VersionOutcomes {
    // Upper bounds of the boot-duration buckets, in seconds; one more bucket (+Inf) follows.
    static constexpr std::array<double, 10> bounds_seconds{10, 20, 30, 45, 60, 90, 120, 180, 300, 600};

    std::string image{};       // empty when the version is gone
    std::int64_t version = 0;  // 0 when the version is gone
    std::uint64_t ok = 0;
    std::uint64_t failed = 0;
    std::array<std::uint64_t, bounds_seconds.size() + 1> duration_buckets{};  // ok boots, not cumulative
    double duration_sum_seconds = 0;
};

class OutcomeStats {
  public:
    // Counts an ended boot (read back from the catalog, so its image and version are known).
    void record(const db::Boot& boot);
    // Ordered by image, then version.
    std::vector<VersionOutcomes> snapshot() const;

  private:
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, std::int64_t>, VersionOutcomes> versions_;
};

}  // namespace bootherd::boots
