// bootstorm: N diskless clients booting at once, simulated on libiscsi's asynchronous API.
//
// Every client logs in to its own target (IQN, initiator name, LUN and CHAP from one line of the clients
// file), checks the LUN with READ CAPACITY(16), replays the boot trace with up to --queue-depth commands in
// flight, and logs out. Clients start spread over --ramp-up seconds; all of them run in one process from one
// poll() loop. A client's boot time runs from its TCP connect to its completed logout.
//
// With --hold S every client, once logged in, waits idle (one NOP-Out per --nop-interval) until all clients
// are logged in and S more seconds have passed, then replays the trace (which may then be empty). That holds
// N sessions open at once; "holding N sessions" is printed when the last one has logged in.
//
// Output: a human summary, then one line for scripts:
//   result clients=... ok=... errors=... min=... p50=... p90=... p99=... max=... mibps=... seconds=...
//   bytes=...
// Times are seconds; mibps is 2^20 bytes per second over the whole storm (first connect to last logout).
// Any failed login, SCSI or iSCSI error, lost connection or timeout is an error; exit status 0 only with
// none.
//
// Machine mode (--machines-file, --http): each line is a machine (MAC, local address) that boots as bootherd
// sees a real one, again and again (boot_machine.hpp): script fetch, firmware login and trace, OS login,
// health report. It ends with
//   result machines=... boots=... errors=... min=... p50=... p90=... p99=... max=... seconds=... bytes=...
// (boot times from script fetch to accepted health report, or to the OS's logout with --no-health), then
//   phases script_p50=... login_p50=... login_p99=... trace_p50=... os_p50=... (and _mean for each)
//   redirects=... cpu=...
// where a boot's time goes (boot_machine.hpp), the firmware logins a redirect moved, and bootstorm's own CPU
// seconds.
#include <poll.h>
#include <sys/resource.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "boot_machine.hpp"
#include "iscsi_client.hpp"
#include "storm_client.hpp"

extern "C" {
#include <iscsi/scsi-lowlevel.h>
}

namespace {

using namespace bootherd::bench;

struct Options {
    std::string portal = "127.0.0.1:3260";
    std::string clients_file;
    std::string machines_file;  // machine mode (boot_machine.hpp)
    std::string http;
    MachineSettings machine{};
    bool no_health = false;
    std::string stop_file;
    std::string trace_file;
    unsigned clients = 256;
    double ramp_up = 0;
    unsigned queue_depth = 4;
    double hold = 0;
    double nop_interval = 1;
    double timeout = 900;
};

using Clients = std::vector<std::unique_ptr<Client>>;

class Storm {
  public:
    Storm(const Options& options, Run& run, const Trace& trace, const std::vector<ClientIdentity>& identities)
        : options_(options), run_(run) {
        clients_.reserve(options.clients);
        for (unsigned i = 0; i < options.clients; ++i)
            clients_.push_back(
                std::make_unique<Client>(run, trace, identities[i], i, options.portal,
                                         "client " + std::to_string(i) + " (" + identities[i].target + ")"));
    }

    // Runs every client to completion or failure; returns the wall time of the storm in seconds.
    double run() {
        const auto& o = options_;
        const auto begin = Clock::now();
        const auto deadline = begin + from_seconds(o.timeout);
        run_.holding = o.hold > 0;
        std::optional<Clock::time_point> hold_until;
        std::size_t started = 0;
        while (true) {
            const auto now = Clock::now();
            while (started < clients_.size() && now >= start_time(begin, started))
                clients_[started++]->start();
            if (run_.holding && !hold_until && started == clients_.size() && none_logging_in()) {
                hold_until = now + from_seconds(o.hold);
                std::cout << "holding " << count_holding() << " sessions for " << o.hold << " s" << std::endl;
            }
            if (hold_until && now >= *hold_until) run_.holding = false;
            for (auto& c : clients_)
                c->tick(now);
            if (started == clients_.size() &&
                std::none_of(clients_.begin(), clients_.end(), [](auto& c) { return c->live(); }))
                break;
            if (now >= deadline) {
                for (auto& c : clients_)
                    c->give_up("the storm (--timeout)");
                break;
            }
            wait_for_io(started < clients_.size() ? start_time(begin, started) - now
                                                  : Clock::duration::max());
        }
        auto first = Clock::time_point::max();
        auto last = begin;
        for (auto& c : clients_) {
            if (c->phase() == AsyncSession::Phase::idle) continue;
            first = std::min(first, c->started());
            last = std::max(last, c->finished());
        }
        return started == 0 ? 0 : std::chrono::duration<double>(last - first).count();
    }

    std::vector<double> boot_seconds() const {
        std::vector<double> out;
        for (auto& c : clients_)
            if (c->phase() == AsyncSession::Phase::closed) out.push_back(c->boot_seconds());
        std::sort(out.begin(), out.end());
        return out;
    }

  private:
    Clock::time_point start_time(Clock::time_point begin, std::size_t index) const {
        const double n = static_cast<double>(clients_.size());
        return begin + from_seconds(options_.ramp_up * static_cast<double>(index) / n);
    }

    bool none_logging_in() const {
        return std::none_of(clients_.begin(), clients_.end(), [](auto& c) { return c->logging_in(); });
    }

    std::size_t count_holding() const {
        return static_cast<std::size_t>(
            std::count_if(clients_.begin(), clients_.end(), [](auto& c) { return c->holding(); }));
    }

    // Services the clients' sockets, waiting at most until the next client is due (and 100 ms).
    void wait_for_io(Clock::duration until_next_start) {
        const auto wait = std::clamp<Clock::duration>(until_next_start, Clock::duration::zero(),
                                                      std::chrono::milliseconds(100));
        poller_.poll_once(clients_,
                          static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count()));
    }

    const Options& options_;
    Run& run_;
    Clients clients_;
    SessionPoller poller_;
};

Trace load_trace(const Options& o) {
    Trace trace;
    if (!o.trace_file.empty()) trace = read_trace(o.trace_file);
    return trace;
}

int run_clients(const Options& o) {
    const auto identities = read_clients(o.clients_file);
    if (identities.size() < o.clients)
        throw std::runtime_error(o.clients_file + " lists " + std::to_string(identities.size()) +
                                 " clients, " + std::to_string(o.clients) + " wanted");
    const Trace trace = load_trace(o);
    if (trace.ops.empty() && o.hold <= 0)
        throw std::runtime_error("nothing to do: empty trace and no --hold");
    raise_fd_limit(o.clients, "bootstorm");

    Run run{.queue_depth = o.queue_depth, .nop_interval = o.nop_interval};
    size_buffers(run, trace);
    Storm storm(o, run, trace, identities);
    const double seconds = storm.run();
    const auto boots = storm.boot_seconds();
    const double mibps = seconds > 0 ? static_cast<double>(run.bytes) / seconds / 1048576.0 : 0;
    const auto pct = [&](double p) { return percentile(boots, p); };

    std::printf("bootstorm: %u clients, trace %zu ops / %.1f MiB each, queue depth %u, ramp-up %.1f s\n",
                o.clients, trace.ops.size(), static_cast<double>(trace.bytes) / 1048576.0, o.queue_depth,
                o.ramp_up);
    std::printf("  booted %zu, errors %" PRIu64 "\n", boots.size(), run.errors.count());
    std::printf("  boot time s: min %.2f  p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", pct(0), pct(50), pct(90),
                pct(99), pct(100));
    std::printf("  aggregate %.1f MiB/s (%.1f MiB in %.2f s)\n", mibps,
                static_cast<double>(run.bytes) / 1048576.0, seconds);
    std::printf("result clients=%u ok=%zu errors=%" PRIu64
                " min=%.3f p50=%.3f p90=%.3f p99=%.3f max=%.3f mibps=%.1f seconds=%.3f bytes=%" PRIu64 "\n",
                o.clients, boots.size(), run.errors.count(), pct(0), pct(50), pct(90), pct(99), pct(100),
                mibps, seconds, run.bytes);
    return run.errors.count() == 0 && boots.size() == o.clients ? 0 : 1;
}

// This process's user + system CPU seconds so far.
double own_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double mean(const std::vector<double>& values) {
    return values.empty()
               ? 0
               : std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return percentile(values, 50);
}

// Machine mode: every machine boots --boots times (0: until --stop-file exists), one after another.
int run_machines(const Options& o) {
    const auto identities = read_machines(o.machines_file);
    if (identities.size() < o.clients)
        throw std::runtime_error(o.machines_file + " lists " + std::to_string(identities.size()) +
                                 " machines, " + std::to_string(o.clients) + " wanted");
    if (o.machine.boots == 0 && o.stop_file.empty())
        throw std::runtime_error("--boots 0 (until stopped) needs --stop-file");
    const Trace trace = load_trace(o);
    raise_fd_limit(o.clients, "bootstorm");
    Run run{.queue_depth = o.queue_depth, .nop_interval = o.nop_interval};
    size_buffers(run, trace);
    MachineTotals totals;
    std::vector<std::unique_ptr<Machine>> machines;
    const auto begin = Clock::now();
    for (unsigned i = 0; i < o.clients; ++i) {
        machines.push_back(std::make_unique<Machine>(run, trace, o.machine, totals, identities[i], i));
        machines.back()->power_on(begin + from_seconds(o.ramp_up * i / o.clients));
    }
    const auto deadline = begin + from_seconds(o.timeout);
    auto next_stop_check = begin;
    bool stopping = false;
    std::vector<pollfd> fds;
    std::vector<Machine*> owners;
    while (true) {
        const auto now = Clock::now();
        if (!o.stop_file.empty() && !stopping && now >= next_stop_check) {
            stopping = std::filesystem::exists(o.stop_file);
            next_stop_check = now + std::chrono::milliseconds(200);
        }
        for (auto& m : machines)
            m->tick(now, stopping);
        if (std::all_of(machines.begin(), machines.end(), [](auto& m) { return m->finished(); })) break;
        if (now >= deadline) {
            for (auto& m : machines)
                m->give_up("the run (--timeout)");
            break;
        }
        fds.clear();
        owners.clear();
        for (auto& m : machines)
            if (const auto want = m->wanted()) {
                fds.push_back(*want);
                owners.push_back(m.get());
            }
        if (::poll(fds.data(), fds.size(), 20) < 0 && errno != EINTR) throw std::runtime_error("poll failed");
        for (std::size_t i = 0; i < fds.size(); ++i)
            if (fds[i].revents != 0) owners[i]->service(fds[i].revents);
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
    auto boots = totals.boot_seconds;
    std::sort(boots.begin(), boots.end());
    const auto pct = [&](double p) { return percentile(boots, p); };
    std::printf("bootstorm: %u machines booting from %s, trace %zu ops / %.1f MiB, ", o.clients,
                o.http.c_str(), trace.ops.size(), static_cast<double>(trace.bytes) / 1048576.0);
    if (o.machine.health)
        std::printf("OS up %.1f s before its health report, ", o.machine.os_seconds);
    else
        std::printf("no health report, ");
    std::printf("reboot after %.1f s\n", o.machine.reboot_delay);
    std::printf("  boots %" PRIu64 " (%s), wait scripts %" PRIu64 ", errors %" PRIu64 " in %.1f s\n",
                totals.boots, o.machine.health ? "health ok" : "OS logged out", totals.wait_scripts,
                run.errors.count(), seconds);
    std::printf("  boot time s (script to %s): min %.2f  p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n",
                o.machine.health ? "health" : "OS logout", pct(0), pct(50), pct(90), pct(99), pct(100));
    const auto& t = totals;
    auto login = t.login_seconds;
    std::sort(login.begin(), login.end());
    std::printf(
        "  where a boot's time goes, mean (p50) s: script %.3f (%.3f), firmware login %.3f (%.3f), "
        "trace+logout %.3f (%.3f), OS login+logout %.3f (%.3f)\n",
        mean(t.script_seconds), median(t.script_seconds), mean(login), percentile(login, 50),
        mean(t.trace_seconds), median(t.trace_seconds), mean(t.os_seconds), median(t.os_seconds));
    std::printf("  firmware logins redirected %" PRIu64 "; bootstorm CPU %.2f s\n", t.redirects,
                own_cpu_seconds());
    std::printf("result machines=%u boots=%" PRIu64 " errors=%" PRIu64
                " min=%.3f p50=%.3f p90=%.3f p99=%.3f max=%.3f seconds=%.3f bytes=%" PRIu64 "\n",
                o.clients, totals.boots, run.errors.count(), pct(0), pct(50), pct(90), pct(99), pct(100),
                seconds, run.bytes);
    std::printf(
        "phases script_p50=%.3f login_p50=%.3f login_p99=%.3f trace_p50=%.3f os_p50=%.3f "
        "script_mean=%.3f login_mean=%.3f trace_mean=%.3f os_mean=%.3f redirects=%" PRIu64 " cpu=%.2f\n",
        median(t.script_seconds), percentile(login, 50), percentile(login, 99), median(t.trace_seconds),
        median(t.os_seconds), mean(t.script_seconds), mean(login), mean(t.trace_seconds), mean(t.os_seconds),
        t.redirects, own_cpu_seconds());
    return run.errors.count() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{
        "bootstorm: many diskless clients logging in, replaying a boot trace and logging out at once"};
    app.add_option("--portal", o.portal, "HOST:PORT of the iSCSI target")->capture_default_str();
    auto* clients_file =
        app.add_option("--clients-file", o.clients_file,
                       "one client a line: TARGET_IQN INITIATOR_IQN LUN [CHAP_USER CHAP_SECRET]");
    auto* machines_file = app.add_option(
        "--machines-file", o.machines_file,
        "machine mode: one machine a line, MAC ADDRESS (a local IPv4 address); each fetches its "
        "boot script, logs in as firmware and as OS, and reports its health");
    clients_file->excludes(machines_file);
    auto* http = app.add_option("--http", o.http, "machine mode: A.B.C.D:PORT of bootherd's web service");
    machines_file->needs(http);
    app.add_option("--boots", o.machine.boots,
                   "machine mode: boots per machine (0: until --stop-file exists)")
        ->check(CLI::Range(0u, 1000000u))
        ->capture_default_str();
    app.add_option("--os-seconds", o.machine.os_seconds,
                   "machine mode: seconds from the OS's login to its health report")
        ->check(CLI::Range(0.0, 3600.0))
        ->capture_default_str();
    app.add_option("--reboot-delay", o.machine.reboot_delay,
                   "machine mode: seconds from a boot's health report to the next script fetch")
        ->check(CLI::Range(0.0, 3600.0))
        ->capture_default_str();
    app.add_flag("--no-health", o.no_health,
                 "machine mode: no health report (bootherd refuses those of machines without address "
                 "binding); a boot ends at the OS's logout");
    app.add_option("--stop-file", o.stop_file,
                   "machine mode: once this file exists, machines finish their boot and start no other");
    app.add_option("--clients", o.clients, "clients to run (the first N lines)")
        ->check(CLI::Range(1u, 65536u))
        ->capture_default_str();
    app.add_option("--trace", o.trace_file, "boot trace: lines OFFSET LENGTH r|w (bytes)");
    app.add_option("--ramp-up", o.ramp_up, "seconds over which client starts are spread")
        ->check(CLI::Range(0.0, 3600.0))
        ->capture_default_str();
    app.add_option("--queue-depth", o.queue_depth, "commands in flight per client")
        ->check(CLI::Range(1u, 256u))
        ->capture_default_str();
    app.add_option("--hold", o.hold, "seconds to hold all sessions open idle (NOPs) before the trace")
        ->check(CLI::Range(0.0, 86400.0));
    app.add_option("--nop-interval", o.nop_interval, "seconds between NOP-Outs of a held session")
        ->check(CLI::Range(0.05, 3600.0))
        ->capture_default_str();
    app.add_option("--timeout", o.timeout, "seconds before unfinished clients count as errors")
        ->check(CLI::Range(1.0, 86400.0))
        ->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    return run_or_report("bootstorm", [&] {
        if (o.machines_file.empty()) {
            if (o.clients_file.empty())
                throw std::runtime_error("--clients-file or --machines-file is required");
            return run_clients(o);
        }
        o.machine.http = parse_ipv4_endpoint(o.http, "--http");
        o.machine.health = !o.no_health;
        return run_machines(o);
    });
}
