#include "web/metrics.hpp"

#include <sstream>

namespace bootherd::web {
namespace {

template <class T>
void metric(std::ostringstream& out, const char* name, const char* type, const char* help, T value) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n'
        << name << ' ' << value << '\n';
}

void latency_histogram(std::ostringstream& out, const iscsi::ServerStats& stats) {
    constexpr const char* name = "bootherd_iscsi_command_latency_seconds";
    out << "# HELP " << name << " SCSI command latency, arrival to status\n# TYPE " << name << " histogram\n";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < stats.latency_buckets.size(); ++i) {
        cumulative += stats.latency_buckets[i];
        out << name << "_bucket{le=\"";
        if (i < iscsi::ServerStats::kLatencyBoundsUs.size())
            out << static_cast<double>(iscsi::ServerStats::kLatencyBoundsUs[i]) / 1e6;
        else
            out << "+Inf";
        out << "\"} " << cumulative << '\n';
    }
    out << name << "_sum " << static_cast<double>(stats.latency_sum_us) / 1e6 << '\n';
    out << name << "_count " << cumulative << '\n';
}

// A label value: backslash, double quote and newline escaped.
std::string label(std::string_view value) {
    std::string out;
    for (const char c : value) {
        if (c == '\\' || c == '"') out.push_back('\\');
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out.push_back(c);
    }
    return out;
}

void boot_outcomes(std::ostringstream& out, const std::vector<boots::VersionOutcomes>& versions) {
    constexpr const char* counter = "bootherd_boot_outcomes_total";
    out << "# HELP " << counter << " Boots ended, by image version and outcome\n# TYPE " << counter
        << " counter\n";
    for (const auto& v : versions) {
        const std::string labels =
            "image=\"" + label(v.image) + "\",version=\"" + std::to_string(v.version) + '"';
        out << counter << '{' << labels << ",outcome=\"ok\"} " << v.ok << '\n';
        out << counter << '{' << labels << ",outcome=\"failed\"} " << v.failed << '\n';
    }
    constexpr const char* histogram = "bootherd_boot_duration_seconds";
    out << "# HELP " << histogram << " Boots that ended ok: seconds from their start to ok\n# TYPE "
        << histogram << " histogram\n";
    for (const auto& v : versions) {
        const std::string labels =
            "image=\"" + label(v.image) + "\",version=\"" + std::to_string(v.version) + '"';
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < v.duration_buckets.size(); ++i) {
            cumulative += v.duration_buckets[i];
            out << histogram << "_bucket{" << labels << ",le=\"";
            if (i < boots::VersionOutcomes::bounds_seconds.size())
                out << boots::VersionOutcomes::bounds_seconds[i];
            else
                out << "+Inf";
            out << "\"} " << cumulative << '\n';
        }
        out << histogram << "_sum{" << labels << "} " << v.duration_sum_seconds << '\n';
        out << histogram << "_count{" << labels << "} " << cumulative << '\n';
    }
}

}  // namespace

std::string render_metrics(const MetricsSnapshot& snapshot) {
    std::ostringstream out;
    out.precision(9);
    if (snapshot.iscsi) {
        const auto& s = *snapshot.iscsi;
        metric(out, "bootherd_iscsi_sessions", "gauge", "Open iSCSI sessions", s.sessions);
        metric(out, "bootherd_iscsi_logins_total", "counter", "Successful iSCSI logins", s.logins);
        metric(out, "bootherd_iscsi_login_failures_total", "counter", "Refused iSCSI logins",
               s.login_failures);
        metric(out, "bootherd_iscsi_login_redirects_total", "counter",
               "iSCSI logins redirected to another server", s.redirects);
        metric(out, "bootherd_iscsi_read_bytes_total", "counter", "Bytes read by initiators", s.bytes_read);
        metric(out, "bootherd_iscsi_written_bytes_total", "counter", "Bytes written by initiators",
               s.bytes_written);
        metric(out, "bootherd_iscsi_commands_total", "counter", "SCSI commands completed", s.commands);
        latency_histogram(out, s);
    } else {
        metric(out, "bootherd_iscsi_sessions", "gauge", "Open iSCSI sessions", snapshot.live_sessions);
    }
    if (snapshot.boot) {
        const auto& b = *snapshot.boot;
        metric(out, "bootherd_boots_total", "counter", "iPXE boot scripts served (one per boot)",
               b.boot_scripts.load());
        metric(out, "bootherd_dhcp_requests_total", "counter", "DHCP/PXE requests received",
               b.dhcp_requests.load());
        metric(out, "bootherd_dhcp_replies_total", "counter", "DHCP replies sent", b.dhcp_replies.load());
        metric(out, "bootherd_dhcp_dropped_total", "counter", "DHCP requests dropped", b.dhcp_dropped.load());
        metric(out, "bootherd_tftp_transfers_total", "counter", "TFTP transfers completed",
               b.tftp_transfers.load());
        metric(out, "bootherd_tftp_errors_total", "counter", "TFTP transfers failed or refused",
               b.tftp_errors.load());
        metric(out, "bootherd_tftp_sent_bytes_total", "counter", "TFTP payload bytes sent",
               b.tftp_bytes.load());
    }
    out << "# HELP bootherd_nodes Enrolled nodes by status\n# TYPE bootherd_nodes gauge\n";
    out << "bootherd_nodes{status=\"booted\"} " << snapshot.nodes.booted << '\n';
    out << "bootherd_nodes{status=\"booting\"} " << snapshot.nodes.booting << '\n';
    out << "bootherd_nodes{status=\"failed\"} " << snapshot.nodes.failed << '\n';
    out << "bootherd_nodes{status=\"off\"} " << snapshot.nodes.off << '\n';
    metric(out, "bootherd_images", "gauge", "Images in the catalog", snapshot.images);
    boot_outcomes(out, snapshot.boot_outcomes);
    out << "# HELP bootherd_rollouts Rollouts in the catalog by state\n# TYPE bootherd_rollouts gauge\n";
    for (const auto& [state, count] : snapshot.rollouts)
        out << "bootherd_rollouts{state=\"" << label(state) << "\"} " << count << '\n';
    return out.str();
}

}  // namespace bootherd::web
