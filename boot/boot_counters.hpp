#pragma once
// Counters of the boot services since start, for /metrics. Written by the DHCP/TFTP/script code on its own
// thread, read by the web service: relaxed atomics, no other synchronisation needed.
#include <atomic>
#include <cstdint>

namespace bootherd::boot {

struct BootCounters {
    std::atomic<std::uint64_t> dhcp_requests{0};   // well-formed DHCP/PXE requests received
    std::atomic<std::uint64_t> dhcp_replies{0};    // OFFER/ACK/NAK sent
    std::atomic<std::uint64_t> dhcp_dropped{0};    // malformed, not ours, or for unknown MACs
    std::atomic<std::uint64_t> tftp_transfers{0};  // transfers completed
    std::atomic<std::uint64_t> tftp_errors{0};     // transfers failed or refused
    std::atomic<std::uint64_t> tftp_bytes{0};      // payload bytes sent
    std::atomic<std::uint64_t> boot_scripts{0};    // iPXE scripts served (each one a new boot)
};

}  // namespace bootherd::boot
