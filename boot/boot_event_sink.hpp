#pragma once
// Where the boot services report the progress of each machine ("dhcp discover", "dhcp offer", "dhcp ack",
// "tftp transfer", ...), so the catalog / web UI can show how far a node got.
#include <chrono>
#include <string_view>

#include "boot/mac_address.hpp"

namespace bootherd::boot {

class BootEventSink {
  public:
    virtual ~BootEventSink() = default;
    virtual void record(const MacAddress& mac, std::string_view step, std::string_view detail,
                        std::chrono::system_clock::time_point when) = 0;
};

}  // namespace bootherd::boot
