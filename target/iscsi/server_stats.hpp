#pragma once
// Counters of the iSCSI server since it started, for /metrics and the dashboard. Totals include sessions that
// have ended. Latency is measured from a command's arrival to its status being queued for sending.
#include <array>
#include <cstdint>

namespace bootherd::iscsi {

struct ServerStats {
    // Upper bounds (microseconds) of the latency histogram buckets; a last, implicit bucket is +Inf.
    static constexpr std::array<std::uint64_t, 12> kLatencyBoundsUs{
        50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 250000, 1000000};

    std::uint64_t sessions = 0;        // open now (normal sessions, not discovery)
    std::uint64_t logins = 0;          // successful normal logins
    std::uint64_t login_failures = 0;  // logins refused (authentication, unknown target, not allowed)
    std::uint64_t redirects = 0;       // logins sent to another server's portal (status 01/01)
    std::uint64_t bytes_read = 0;      // Data-In payload sent
    std::uint64_t bytes_written = 0;   // Data-Out and immediate data received for WRITEs
    std::uint64_t commands = 0;        // SCSI commands completed
    std::array<std::uint64_t, kLatencyBoundsUs.size() + 1> latency_buckets{};  // not cumulative
    std::uint64_t latency_sum_us = 0;
};

}  // namespace bootherd::iscsi
