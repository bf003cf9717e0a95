#pragma once
// Which machines' PXE firmware announced a new boot: a DHCP offer or ack carrying a boot file (the firmware's
// or iPXE's exchange, not an OS renewing its lease) for their MAC. Sits between the DHCP engine and the event
// log, passing every event on. The boot service takes the announcement when it serves the script: a
// non-persistent disk with sessions still open is replaced only for an announced boot, since a machine whose
// firmware runs has no OS running on that disk any more.
#include <chrono>
#include <map>
#include <mutex>

#include "boot/boot_event_sink.hpp"

namespace bootherd::boot {

// Whether boot event `step` with `detail` is such an announcement: a DHCP offer or ack naming a boot file.
bool announces_boot(std::string_view step, std::string_view detail);

class BootAnnouncements final : public BootEventSink {
  public:
    using Clock = std::chrono::system_clock;
    // An announcement older than `expiry` is ignored (the firmware fetches its script seconds after DHCP).
    BootAnnouncements(BootEventSink& next, Clock::duration expiry) : next_(next), expiry_(expiry) {}

    void record(const MacAddress& mac, std::string_view step, std::string_view detail,
                Clock::time_point when) override;
    // True (once) when `mac` announced a boot within the expiry before `now`.
    bool take(const MacAddress& mac, Clock::time_point now);

  private:
    BootEventSink& next_;
    Clock::duration expiry_;
    std::mutex mutex_;
    std::map<MacAddress, Clock::time_point> announced_;
};

}  // namespace bootherd::boot
