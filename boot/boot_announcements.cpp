#include "boot/boot_announcements.hpp"

#include <string_view>

namespace bootherd::boot {
namespace {

constexpr std::size_t prune_above = 1024;  // forged client MACs cannot grow the map without bound

}  // namespace

// The DHCP engine's offers and acks read "<address> <boot file>" (full) or "proxy boot file <file>" (proxy);
// the file is empty for a client that is no PXE firmware nor iPXE.
bool announces_boot(std::string_view step, std::string_view detail) {
    if (step != "dhcp offer" && step != "dhcp ack") return false;
    const auto space = detail.rfind(' ');
    return space != std::string_view::npos && space + 1 < detail.size();
}

void BootAnnouncements::record(const MacAddress& mac, std::string_view step, std::string_view detail,
                               Clock::time_point when) {
    if (announces_boot(step, detail)) {
        const std::lock_guard lock(mutex_);
        if (announced_.size() > prune_above)
            std::erase_if(announced_, [&](const auto& entry) { return when - entry.second > expiry_; });
        announced_[mac] = when;
    }
    next_.record(mac, step, detail, when);
}

bool BootAnnouncements::take(const MacAddress& mac, Clock::time_point now) {
    const std::lock_guard lock(mutex_);
    const auto found = announced_.find(mac);
    if (found == announced_.end()) return false;
    const bool fresh = now - found->second <= expiry_;
    announced_.erase(found);
    return fresh;
}

}  // namespace bootherd::boot
