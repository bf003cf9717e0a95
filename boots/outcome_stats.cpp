#include "boots/outcome_stats.hpp"

#include <algorithm>

namespace bootherd::boots {

void OutcomeStats::record(const db::Boot& boot) {
    if (boot.outcome == db::BootOutcome::running || !boot.ended_at) return;
    const std::lock_guard lock(mutex_);
    const auto key = std::pair(boot.image.value_or(""), boot.version.value_or(0));
    auto& counts = versions_[key];
    counts.image = key.first;
    counts.version = key.second;
    if (boot.outcome == db::BootOutcome::failed) {
        ++counts.failed;
        return;
    }
    ++counts.ok;
    const double seconds =
        static_cast<double>(std::max<std::int64_t>(0, *boot.ended_at - boot.started_at)) / 1e3;
    const auto& bounds = VersionOutcomes::bounds_seconds;
    const auto bucket = std::lower_bound(bounds.begin(), bounds.end(), seconds) - bounds.begin();
    ++counts.duration_buckets[static_cast<std::size_t>(bucket)];
    counts.duration_sum_seconds += seconds;
}

std::vector<VersionOutcomes> OutcomeStats::snapshot() const {
    const std::lock_guard lock(mutex_);
    std::vector<VersionOutcomes> out;
    out.reserve(versions_.size());
    for (const auto& [key, counts] : versions_)
        out.push_back(counts);
    return out;
}

}  // namespace bootherd::boots
