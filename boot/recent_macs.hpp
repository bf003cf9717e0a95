#pragma once
// MACs noted within the last `window`, at most `capacity` of them: the memory of per-client limits that
// strangers can fill, so it has a bound. Pure: the caller passes the time.
#include <chrono>
#include <cstddef>
#include <map>

#include "boot/mac_address.hpp"

namespace bootherd::boot {

template <class Clock>
class RecentMacs {
  public:
    RecentMacs(std::size_t capacity, typename Clock::duration window)
        : capacity_(capacity), window_(window) {}

    bool contains(const MacAddress& mac, typename Clock::time_point now) const {
        const auto it = noted_.find(mac);
        return it != noted_.end() && fresh(it->second, now);
    }

    // Notes `mac` at `now`. False (nothing noted) when the set is full of entries still inside the window.
    bool note(const MacAddress& mac, typename Clock::time_point now) {
        if (const auto it = noted_.find(mac); it != noted_.end()) {
            it->second = now;
            return true;
        }
        if (noted_.size() >= capacity_)
            std::erase_if(noted_, [&](const auto& e) { return !fresh(e.second, now); });
        if (noted_.size() >= capacity_) return false;
        noted_.emplace(mac, now);
        return true;
    }

    std::size_t size() const { return noted_.size(); }

  private:
    bool fresh(typename Clock::time_point at, typename Clock::time_point now) const {
        return now >= at && now - at < window_;
    }

    std::size_t capacity_;
    typename Clock::duration window_;
    std::map<MacAddress, typename Clock::time_point> noted_;
};

}  // namespace bootherd::boot
