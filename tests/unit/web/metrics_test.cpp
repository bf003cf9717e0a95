#include <doctest/doctest.h>

#include "web/metrics.hpp"
#include "web/throughput_meter.hpp"

using namespace bootherd;
using namespace bootherd::web;

TEST_CASE("metrics render counters and a cumulative latency histogram") {
    MetricsSnapshot snapshot;
    iscsi::ServerStats stats;
    stats.sessions = 3;
    stats.bytes_read = 4096;
    stats.redirects = 5;
    stats.latency_buckets[0] = 2;
    stats.latency_buckets[2] = 1;
    stats.latency_buckets.back() = 1;
    stats.latency_sum_us = 2000000;
    snapshot.iscsi = stats;
    boot::BootCounters counters;
    counters.boot_scripts = 7;
    snapshot.boot = &counters;
    snapshot.nodes = {.total = 10, .booted = 2, .booting = 1, .failed = 3, .off = 4};
    const auto text = render_metrics(snapshot);
    CHECK(text.find("# TYPE bootherd_iscsi_sessions gauge\nbootherd_iscsi_sessions 3\n") !=
          std::string::npos);
    CHECK(text.find("bootherd_iscsi_read_bytes_total 4096\n") != std::string::npos);
    CHECK(text.find("# TYPE bootherd_iscsi_login_redirects_total counter\n"
                    "bootherd_iscsi_login_redirects_total 5\n") != std::string::npos);
    CHECK(text.find("bootherd_iscsi_command_latency_seconds_bucket{le=\"5e-05\"} 2\n") != std::string::npos);
    CHECK(text.find("bootherd_iscsi_command_latency_seconds_bucket{le=\"0.0001\"} 2\n") != std::string::npos);
    CHECK(text.find("bootherd_iscsi_command_latency_seconds_bucket{le=\"0.00025\"} 3\n") !=
          std::string::npos);
    CHECK(text.find("bootherd_iscsi_command_latency_seconds_bucket{le=\"+Inf\"} 4\n") != std::string::npos);
    CHECK(text.find("bootherd_iscsi_command_latency_seconds_count 4\n") != std::string::npos);
    CHECK(text.find("bootherd_iscsi_command_latency_seconds_sum 2\n") != std::string::npos);
    CHECK(text.find("bootherd_boots_total 7\n") != std::string::npos);
    CHECK(text.find("bootherd_nodes{status=\"booting\"} 1\n") != std::string::npos);
    CHECK(text.find("bootherd_nodes{status=\"failed\"} 3\n") != std::string::npos);
    CHECK(text.find("bootherd_nodes{status=\"off\"} 4\n") != std::string::npos);
}

TEST_CASE("metrics without iSCSI stats or boot counters") {
    MetricsSnapshot snapshot;
    snapshot.live_sessions = 2;
    const auto text = render_metrics(snapshot);
    CHECK(text.find("bootherd_iscsi_sessions 2\n") != std::string::npos);
    CHECK(text.find("bootherd_boots_total") == std::string::npos);
}

TEST_CASE("throughput meter") {
    ThroughputMeter meter;
    const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    CHECK(meter.sample(1000, 0, t0) == std::pair<double, double>{0, 0});
    CHECK(meter.sample(3000, 500, t0 + std::chrono::seconds(2)) == std::pair<double, double>{1000, 250});
    // Asked again within a second: the same rates.
    CHECK(meter.sample(9000, 500, t0 + std::chrono::milliseconds(2500)) ==
          std::pair<double, double>{1000, 250});
    // A restart (smaller totals) reads as zero rather than a huge number.
    CHECK(meter.sample(10, 10, t0 + std::chrono::seconds(4)).first == 0);
}

TEST_CASE("metrics: boot outcomes per image version and the cumulative boot-duration histogram") {
    MetricsSnapshot snapshot;
    boots::VersionOutcomes v;
    v.image = "win\"11";
    v.version = 3;
    v.ok = 2;
    v.failed = 1;
    v.duration_buckets[0] = 1;  // under 10 s
    v.duration_buckets[4] = 1;  // 45..60 s
    v.duration_sum_seconds = 59.5;
    snapshot.boot_outcomes.push_back(v);
    const auto text = render_metrics(snapshot);
    const std::string labels = "image=\"win\\\"11\",version=\"3\"";
    CHECK(text.find("# TYPE bootherd_boot_outcomes_total counter\n") != std::string::npos);
    CHECK(text.find("bootherd_boot_outcomes_total{" + labels + ",outcome=\"ok\"} 2\n") != std::string::npos);
    CHECK(text.find("bootherd_boot_outcomes_total{" + labels + ",outcome=\"failed\"} 1\n") !=
          std::string::npos);
    CHECK(text.find("# TYPE bootherd_boot_duration_seconds histogram\n") != std::string::npos);
    CHECK(text.find("bootherd_boot_duration_seconds_bucket{" + labels + ",le=\"10\"} 1\n") !=
          std::string::npos);
    CHECK(text.find("bootherd_boot_duration_seconds_bucket{" + labels + ",le=\"45\"} 1\n") !=
          std::string::npos);
    CHECK(text.find("bootherd_boot_duration_seconds_bucket{" + labels + ",le=\"60\"} 2\n") !=
          std::string::npos);
    CHECK(text.find("bootherd_boot_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} 2\n") !=
          std::string::npos);
    CHECK(text.find("bootherd_boot_duration_seconds_sum{" + labels + "} 59.5\n") != std::string::npos);
    CHECK(text.find("bootherd_boot_duration_seconds_count{" + labels + "} 2\n") != std::string::npos);
}

TEST_CASE("metrics show rollouts by state as a gauge") {
    MetricsSnapshot snapshot;
    snapshot.rollouts = {{"running", 1}, {"rolled_back", 2}};
    const auto text = render_metrics(snapshot);
    CHECK(text.find("# TYPE bootherd_rollouts gauge\n") != std::string::npos);
    CHECK(text.find("bootherd_rollouts{state=\"running\"} 1\n") != std::string::npos);
    CHECK(text.find("bootherd_rollouts{state=\"rolled_back\"} 2\n") != std::string::npos);
}
