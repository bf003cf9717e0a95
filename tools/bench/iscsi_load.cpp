// iscsi_load: an iSCSI load generator on libiscsi's asynchronous API.
//
// It opens N sessions at once (one iscsi_context each, all driven from one poll() loop), waits until every
// one is logged in, keeps QD commands in flight on each for the given time, drains, logs out, and prints one
// line:
//   iops=... mbps=... errors=... sessions=... ops=... bytes=... seconds=... op=... pattern=... bs=... qd=...
// mbps is MiB/s (2^20 bytes per second), the unit iscsi-perf prints as "MB/s". Exit status 0 only with no
// errors. It exists because Debian's iscsi-perf cannot write and opens only one session.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "iscsi_client.hpp"

extern "C" {
#include <iscsi/scsi-lowlevel.h>
}

namespace {

using namespace bootherd::bench;

enum class Op { read, write };
enum class Pattern { random, seq };

struct Options {
    std::string url;
    Op op = Op::read;
    Pattern pattern = Pattern::random;
    std::uint32_t bs = 4096;
    unsigned qd = 32;
    double seconds = 10;
    unsigned sessions = 1;
    std::string initiator = "iqn.2026-11.org.bootherd:iscsi-load";
    double login_timeout = 60;
    double idle = 0;  // seconds every session sits idle (answering the target's NOP-In pings) before the I/O
};

// Where the target lives, taken apart once from the iscsi:// URL (with its CHAP user%secret, if any).
struct Portal {
    std::string address;
    std::string iqn;
    int lun = 0;
    std::string chap_user{};
    std::string chap_secret{};
};

Portal parse_url(const Options& o) {
    std::unique_ptr<iscsi_context, decltype(&iscsi_destroy_context)> scratch(
        iscsi_create_context(o.initiator.c_str()), iscsi_destroy_context);
    if (!scratch) throw std::runtime_error("cannot create an iSCSI context");
    iscsi_url* url = iscsi_parse_full_url(scratch.get(), o.url.c_str());
    if (url == nullptr) throw std::invalid_argument(o.url + ": " + iscsi_get_error(scratch.get()));
    Portal p{url->portal, url->target, url->lun, url->user, url->passwd};
    iscsi_destroy_url(url);
    return p;
}

// Counters shared by all sessions of one run; everything runs on one thread.
struct Run {
    const Options& options;
    const Portal& portal;
    std::vector<unsigned char> write_data;
    std::vector<unsigned char> read_sink;  // read data lands here and is dropped
    scsi_iovec read_iov{};                 // libiscsi keeps a pointer to it until each read completes
    std::mt19937_64 rng{std::random_device{}()};
    bool submitting = false;
    std::uint64_t ops = 0;
    std::uint64_t bytes = 0;
    ErrorLog errors{"iscsi_load"};
};

class Session : public AsyncSession {
  public:
    Session(Run& run, unsigned index)
        : AsyncSession(run.errors, "session " + std::to_string(index)), run_(run), index_(index) {
        if (!create_context(run.options.initiator, run.portal.iqn, 0x10000u + index))
            throw std::runtime_error("cannot create an iSCSI context");
        if (!run.portal.chap_user.empty() &&
            iscsi_set_initiator_username_pwd(context(), run.portal.chap_user.c_str(),
                                             run.portal.chap_secret.c_str()) != 0)
            throw std::runtime_error(std::string("cannot set CHAP: ") + iscsi_get_error(context()));
        connect(run.portal.address, run.portal.lun);
    }

    unsigned in_flight() const { return in_flight_; }
    std::uint64_t ops() const { return ops_; }

    void fill_queue() {
        while (phase() == Phase::open && run_.submitting && in_flight_ < run_.options.qd)
            submit();
    }

    // Commands still outstanding when the run gives up on them count as errors.
    void abandon() {
        if (in_flight_ > 0) {
            run_.errors.report("session " + std::to_string(index_) + ": " + std::to_string(in_flight_) +
                               " commands never completed");
            in_flight_ = 0;
        }
        mark_failed();
    }

  private:
    void opened(std::uint32_t block_length, std::uint64_t last_lba) override {
        const std::uint64_t blocks = last_lba + 1;  // 0 only if the target claims 2^64 blocks
        const std::uint32_t bs = run_.options.bs;
        if (block_length == 0 || bs % block_length != 0 || blocks == 0 || blocks < bs / block_length)
            return fail("sizing", "--bs does not fit the LUN's block size or capacity");
        block_length_ = block_length;
        blocks_per_io_ = bs / block_length;
        io_slots_ = blocks / blocks_per_io_;
        // Sequential sessions start spread over the LUN so they do not all read the same blocks.
        next_slot_ = io_slots_ / 64 * (index_ % 64);
    }

    std::uint64_t next_lba() {
        std::uint64_t slot;
        if (run_.options.pattern == Pattern::random) {
            slot = std::uniform_int_distribution<std::uint64_t>(0, io_slots_ - 1)(run_.rng);
        } else {
            slot = next_slot_;
            next_slot_ = (next_slot_ + 1) % io_slots_;
        }
        return slot * blocks_per_io_;
    }

    void submit() {
        const auto bs = run_.options.bs;
        const auto lun = run_.portal.lun;
        const auto lba = next_lba();
        scsi_task* task;
        if (run_.options.op == Op::write) {
            task = iscsi_write16_task(context(), lun, lba, run_.write_data.data(), bs,
                                      static_cast<int>(block_length_), 0, 0, 0, 0, 0, on_io_done, this);
        } else {
            task = iscsi_read16_iov_task(context(), lun, lba, bs, static_cast<int>(block_length_), 0, 0, 0, 0,
                                         0, on_io_done, this, &run_.read_iov, 1);
        }
        if (task == nullptr) {
            fail("queueing a command", iscsi_get_error(context()));
            return;
        }
        ++in_flight_;
    }

    static void on_io_done(iscsi_context*, int status, void* data, void* self_ptr) {
        auto& self = *static_cast<Session*>(self_ptr);
        auto* task = static_cast<scsi_task*>(data);
        if (self.in_flight_ > 0) --self.in_flight_;
        if (status == SCSI_STATUS_GOOD) {
            ++self.ops_;
            ++self.run_.ops;
            self.run_.bytes += self.run_.options.bs;
        } else {
            char what[160];
            std::snprintf(what, sizeof what, "session %u: command failed, status 0x%x, sense %s/0x%04x: %s",
                          self.index_, static_cast<unsigned>(status), scsi_sense_key_str(task->sense.key),
                          static_cast<unsigned>(task->sense.ascq), iscsi_get_error(self.context()));
            self.run_.errors.report(what);
        }
        scsi_free_scsi_task(task);
        self.fill_queue();
    }

    Run& run_;
    unsigned index_;
    unsigned in_flight_ = 0;
    std::uint64_t ops_ = 0;  // completed commands of this session: how fairly the server shared itself
    std::uint32_t block_length_ = 0;
    std::uint64_t blocks_per_io_ = 0;
    std::uint64_t io_slots_ = 0;
    std::uint64_t next_slot_ = 0;
};

using Sessions = std::vector<std::unique_ptr<Session>>;

template <typename Done>
bool pump_until(Sessions& sessions, Clock::time_point deadline, Done done) {
    SessionPoller poller;
    while (!done()) {
        if (Clock::now() >= deadline) return false;
        poller.poll_once(sessions, 100);
    }
    return true;
}

const char* login_timeout_error(AsyncSession::Phase p) {
    return p == AsyncSession::Phase::connecting ? "login timed out" : "READ CAPACITY timed out";
}

int run(const Options& o) {
    const Portal portal = parse_url(o);
    raise_fd_limit(o.sessions, "iscsi_load");

    Run run{.options = o,
            .portal = portal,
            .write_data = std::vector<unsigned char>(o.bs),
            .read_sink = std::vector<unsigned char>(o.bs)};
    run.read_iov = {run.read_sink.data(), run.read_sink.size()};
    std::generate(run.write_data.begin(), run.write_data.end(),
                  [&] { return static_cast<unsigned char>(run.rng()); });

    Sessions sessions;
    sessions.reserve(o.sessions);
    for (unsigned i = 0; i < o.sessions; ++i)
        sessions.push_back(std::make_unique<Session>(run, i));

    pump_until(sessions, Clock::now() + from_seconds(o.login_timeout), [&] {
        return std::none_of(sessions.begin(), sessions.end(), [](auto& s) { return s->logging_in(); });
    });
    unsigned logged_in = 0;
    for (unsigned i = 0; i < sessions.size(); ++i) {
        auto& s = *sessions[i];
        if (s.logging_in()) {
            run.errors.report("session " + std::to_string(i) + ": " + login_timeout_error(s.phase()));
            s.abandon();
        }
        if (s.phase() == AsyncSession::Phase::open) ++logged_in;
    }

    if (o.idle > 0) {
        // libiscsi answers the target's NOP-In pings while the sockets are serviced; a session the target
        // drops meanwhile is reported by its failure and fails the run.
        pump_until(sessions, Clock::now() + from_seconds(o.idle), [] { return false; });
    }

    const auto start = Clock::now();
    if (logged_in > 0) {
        run.submitting = true;
        for (auto& s : sessions)
            s->fill_queue();
        const auto stop = start + from_seconds(o.seconds);
        pump_until(sessions, stop, [] { return false; });
        run.submitting = false;
        pump_until(sessions, Clock::now() + std::chrono::seconds(30), [&] {
            return std::all_of(sessions.begin(), sessions.end(),
                               [](auto& s) { return s->in_flight() == 0 || !s->live(); });
        });
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    for (auto& s : sessions)
        if (s->in_flight() > 0) s->abandon();

    for (auto& s : sessions)
        s->log_out();
    pump_until(sessions, Clock::now() + std::chrono::seconds(10), [&] {
        return std::none_of(sessions.begin(), sessions.end(),
                            [](auto& s) { return s->phase() == AsyncSession::Phase::logging_out; });
    });
    for (unsigned i = 0; i < sessions.size(); ++i)
        if (sessions[i]->phase() == AsyncSession::Phase::logging_out)
            run.errors.report("session " + std::to_string(i) + ": logout timed out");

    const double iops = logged_in > 0 && elapsed > 0 ? static_cast<double>(run.ops) / elapsed : 0;
    const double mbps =
        logged_in > 0 && elapsed > 0 ? static_cast<double>(run.bytes) / elapsed / 1048576.0 : 0;
    std::printf("iops=%.0f mbps=%.1f errors=%" PRIu64 " sessions=%u ops=%" PRIu64 " bytes=%" PRIu64
                " seconds=%.3f op=%s pattern=%s bs=%u qd=%u\n",
                iops, mbps, run.errors.count(), logged_in, run.ops, run.bytes, elapsed,
                o.op == Op::write ? "write" : "read", o.pattern == Pattern::random ? "random" : "seq", o.bs,
                o.qd);
    if (logged_in > 1) {
        // Service per session: under a storm every session should get a comparable share.
        std::vector<std::uint64_t> per_session;
        for (auto& sp : sessions)
            per_session.push_back(sp->ops());
        std::sort(per_session.begin(), per_session.end());
        const auto at = [&](double q) {
            return per_session[static_cast<std::size_t>(q * static_cast<double>(per_session.size() - 1))];
        };
        std::printf(
            "per_session_ops min=%" PRIu64 " p10=%" PRIu64 " p50=%" PRIu64 " p90=%" PRIu64 " max=%" PRIu64
            " min_over_p50=%.2f\n",
            per_session.front(), at(0.1), at(0.5), at(0.9), per_session.back(),
            at(0.5) > 0 ? static_cast<double>(per_session.front()) / static_cast<double>(at(0.5)) : 0.0);
    }
    return run.errors.count() == 0 && logged_in == o.sessions ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"iscsi_load: drive an iSCSI LUN with reads or writes from one or many libiscsi sessions"};
    app.add_option("--url", o.url, "iscsi://[USER%SECRET@]HOST:PORT/IQN/LUN (with CHAP)")->required();
    app.add_option("--op", o.op, "read or write (write overwrites the LUN's data)")
        ->transform(
            CLI::CheckedTransformer(std::map<std::string, Op>{{"read", Op::read}, {"write", Op::write}}));
    app.add_option("--pattern", o.pattern, "random or seq")
        ->transform(CLI::CheckedTransformer(
            std::map<std::string, Pattern>{{"random", Pattern::random}, {"seq", Pattern::seq}}));
    app.add_option("--bs", o.bs, "bytes per command")->check(CLI::Range(512u, 16u << 20));
    app.add_option("--qd", o.qd, "commands in flight per session")->check(CLI::Range(1u, 1024u));
    app.add_option("--seconds", o.seconds, "how long to keep I/O running")->check(CLI::Range(0.1, 86400.0));
    app.add_option("--sessions", o.sessions, "sessions held open at once")->check(CLI::Range(1u, 65536u));
    app.add_option("--initiator", o.initiator, "initiator IQN");
    app.add_option("--idle", o.idle, "seconds the sessions sit idle after login, before the I/O")
        ->check(CLI::Range(0.0, 86400.0));
    app.add_option("--login-timeout", o.login_timeout, "seconds allowed for all sessions to log in")
        ->check(CLI::Range(1.0, 3600.0));
    CLI11_PARSE(app, argc, argv);
    return run_or_report("iscsi_load", [&] { return run(o); });
}
