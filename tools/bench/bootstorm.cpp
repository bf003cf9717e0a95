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
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "iscsi_client.hpp"

extern "C" {
#include <iscsi/scsi-lowlevel.h>
}

namespace {

using namespace bootherd::bench;

struct Options {
    std::string portal = "127.0.0.1:3260";
    std::string clients_file;
    std::string trace_file;
    unsigned clients = 256;
    double ramp_up = 0;
    unsigned queue_depth = 4;
    double hold = 0;
    double nop_interval = 1;
    double timeout = 900;
};

// --- inputs
// ---------------------------------------------------------------------------------------------------

struct ClientIdentity {
    std::string target;
    std::string initiator;
    int lun = 0;
    std::string chap_user;  // empty: no authentication
    std::string chap_secret;
};

// Lines "TARGET_IQN INITIATOR_IQN LUN [CHAP_USER CHAP_SECRET]"; blank lines and '#' comments are skipped.
std::vector<ClientIdentity> read_clients(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot read");
    std::vector<ClientIdentity> out;
    std::string line;
    for (unsigned number = 1; std::getline(in, line); ++number) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        ClientIdentity c;
        std::string extra;
        if (!(fields >> c.target >> c.initiator >> c.lun) || c.lun < 0 || c.lun > 255)
            throw std::runtime_error(path + ":" + std::to_string(number) +
                                     ": want TARGET INITIATOR LUN [USER SECRET]");
        fields >> c.chap_user >> c.chap_secret;
        if (!c.chap_user.empty() && c.chap_secret.empty())
            throw std::runtime_error(path + ":" + std::to_string(number) + ": CHAP user without a secret");
        if (fields >> extra)
            throw std::runtime_error(path + ":" + std::to_string(number) + ": too many fields");
        out.push_back(std::move(c));
    }
    return out;
}

struct TraceOp {
    std::uint64_t offset = 0;
    std::uint32_t length = 0;
    bool write = false;
};

struct Trace {
    std::vector<TraceOp> ops;
    std::uint64_t end = 0;  // one past the highest byte touched
    std::uint32_t max_read = 0;
    std::uint32_t max_write = 0;
    std::uint64_t bytes = 0;
};

// Lines "OFFSET LENGTH r|w" in bytes; blank lines and '#' comments are skipped.
Trace read_trace(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot read");
    Trace t;
    std::string line;
    for (unsigned number = 1; std::getline(in, line); ++number) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        std::uint64_t offset = 0, length = 0;
        std::string kind, extra;
        const auto where = path + ":" + std::to_string(number) + ": ";
        if (!(fields >> offset >> length >> kind) || (kind != "r" && kind != "w") || (fields >> extra))
            throw std::runtime_error(where + "want OFFSET LENGTH r|w");
        if (length == 0 || length > (16u << 20)) throw std::runtime_error(where + "length must be 1..16 MiB");
        if (offset > UINT64_MAX - length) throw std::runtime_error(where + "offset + length overflows");
        const bool write = kind == "w";
        t.ops.push_back({offset, static_cast<std::uint32_t>(length), write});
        t.end = std::max(t.end, offset + length);
        (write ? t.max_write : t.max_read) = std::max(write ? t.max_write : t.max_read, t.ops.back().length);
        t.bytes += length;
    }
    return t;
}

// --- one run
// --------------------------------------------------------------------------------------------------

// Buffers and counters shared by all clients; everything runs on one thread.
struct Run {
    const Options& options;
    const Trace& trace;
    std::vector<unsigned char> read_sink;  // every read lands here and is dropped
    std::vector<unsigned char> write_data;
    std::uint64_t bytes = 0;
    ErrorLog errors{"bootstorm"};
    bool holding = false;  // true until every client has logged in and the hold time has passed
};

// A client that has not started yet is idle; one that booted is closed.
class Client : public AsyncSession {
  public:
    Client(Run& run, const ClientIdentity& identity, unsigned index, const std::string& portal)
        : AsyncSession(run.errors, "client " + std::to_string(index) + " (" + identity.target + ")"),
          run_(run),
          identity_(identity),
          index_(index),
          portal_(portal),
          slots_(run.options.queue_depth) {
        for (auto& slot : slots_)
            slot.owner = this;
    }

    // Logged in, waiting for the hold to end.
    bool holding() const { return phase() == Phase::open && !replaying_; }
    double boot_seconds() const { return std::chrono::duration<double>(finished_ - started_).count(); }
    Clock::time_point started() const { return started_; }
    Clock::time_point finished() const { return finished_; }

    void start() {
        started_ = Clock::now();
        if (!create_context(identity_.initiator, identity_.target, 0x20000u + index_))
            return fail("setup", "cannot create an iSCSI context");
        iscsi_set_header_digest(context(), ISCSI_HEADER_DIGEST_NONE);  // what iPXE ends up with
        if (!identity_.chap_user.empty() &&
            iscsi_set_initiator_username_pwd(context(), identity_.chap_user.c_str(),
                                             identity_.chap_secret.c_str()) != 0)
            return fail("setup", iscsi_get_error(context()));
        connect(portal_, identity_.lun);
    }

    // Time-driven work: the end of a hold, and the NOP-Outs that keep an idle session visibly alive.
    void tick(Clock::time_point now) {
        if (!holding()) return;
        if (!run_.holding) return begin_replay();
        if (now >= next_nop_ && !nop_in_flight_) {
            next_nop_ = now + from_seconds(run_.options.nop_interval);
            if (iscsi_nop_out_async(context(), on_nop_reply, nullptr, 0, this) != 0)
                return fail("NOP-Out", iscsi_get_error(context()));
            nop_in_flight_ = true;
        }
    }

    void give_up(const char* why) {
        if (live()) fail(why, "gave up waiting");
    }

  private:
    // One command in flight; libiscsi keeps a pointer to its iovec until the command completes.
    struct Slot {
        Client* owner = nullptr;
        scsi_iovec iov{};
        std::uint32_t length = 0;
        bool busy = false;
    };

    void opened(std::uint32_t block_length, std::uint64_t last_lba) override {
        if (!fits(block_length, last_lba))
            return fail("sizing", "the trace does not fit the LUN (capacity or block size)");
        block_length_ = block_length;
        if (!run_.holding) begin_replay();
    }

    void ended() override { finished_ = Clock::now(); }

    bool fits(std::uint32_t block_length, std::uint64_t last_lba) const {
        if (block_length == 0 || last_lba == UINT64_MAX) return false;
        const std::uint64_t capacity = (last_lba + 1) * block_length;
        if (run_.trace.end > capacity) return false;
        return std::all_of(run_.trace.ops.begin(), run_.trace.ops.end(), [&](const TraceOp& op) {
            return op.offset % block_length == 0 && op.length % block_length == 0;
        });
    }

    bool replaying() const { return phase() == Phase::open && replaying_; }

    void begin_replay() {
        replaying_ = true;
        fill_queue();
    }

    void fill_queue() {
        while (replaying() && next_op_ < run_.trace.ops.size() && in_flight_ < slots_.size()) {
            if (!submit(run_.trace.ops[next_op_])) return;
            ++next_op_;
        }
        if (replaying() && next_op_ == run_.trace.ops.size() && in_flight_ == 0) log_out();
    }

    bool submit(const TraceOp& op) {
        auto slot = std::find_if(slots_.begin(), slots_.end(), [](const Slot& s) { return !s.busy; });
        const std::uint64_t lba = op.offset / block_length_;
        const int bl = static_cast<int>(block_length_);
        scsi_task* task;
        if (op.write) {
            slot->iov = {run_.write_data.data(), op.length};
            task = iscsi_write16_iov_task(context(), identity_.lun, lba, nullptr, op.length, bl, 0, 0, 0, 0,
                                          0, on_io_done, &*slot, &slot->iov, 1);
        } else {
            slot->iov = {run_.read_sink.data(), op.length};
            task = iscsi_read16_iov_task(context(), identity_.lun, lba, op.length, bl, 0, 0, 0, 0, 0,
                                         on_io_done, &*slot, &slot->iov, 1);
        }
        if (task == nullptr) {
            fail("queueing a command", iscsi_get_error(context()));
            return false;
        }
        slot->busy = true;
        slot->length = op.length;
        ++in_flight_;
        return true;
    }

    static void on_io_done(iscsi_context* ctx, int status, void* data, void* slot_ptr) {
        auto* slot = static_cast<Slot*>(slot_ptr);
        auto& self = *slot->owner;
        auto* task = static_cast<scsi_task*>(data);
        slot->busy = false;
        --self.in_flight_;
        if (status == SCSI_STATUS_GOOD) {
            self.run_.bytes += slot->length;
        } else {
            char what[200];
            std::snprintf(what, sizeof what, "status 0x%x, sense %s/0x%04x: %s",
                          static_cast<unsigned>(status), scsi_sense_key_str(task->sense.key),
                          static_cast<unsigned>(task->sense.ascq), iscsi_get_error(ctx));
            self.fail("a command", what);
        }
        scsi_free_scsi_task(task);
        self.fill_queue();
    }

    static void on_nop_reply(iscsi_context*, int status, void*, void* self_ptr) {
        auto& self = *static_cast<Client*>(self_ptr);
        self.nop_in_flight_ = false;
        if (status != SCSI_STATUS_GOOD) self.fail("NOP-Out", iscsi_get_error(self.context()));
    }

    Run& run_;
    const ClientIdentity& identity_;
    unsigned index_;
    const std::string& portal_;
    std::vector<Slot> slots_;
    bool replaying_ = false;
    std::size_t next_op_ = 0;
    unsigned in_flight_ = 0;
    std::uint32_t block_length_ = 0;
    bool nop_in_flight_ = false;
    Clock::time_point next_nop_{};
    Clock::time_point started_{};
    Clock::time_point finished_{};
};

using Clients = std::vector<std::unique_ptr<Client>>;

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double p) {
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

class Storm {
  public:
    Storm(Run& run, const std::vector<ClientIdentity>& identities) : run_(run) {
        clients_.reserve(run.options.clients);
        for (unsigned i = 0; i < run.options.clients; ++i)
            clients_.push_back(std::make_unique<Client>(run, identities[i], i, run.options.portal));
    }

    // Runs every client to completion or failure; returns the wall time of the storm in seconds.
    double run() {
        const auto& o = run_.options;
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
        return begin + from_seconds(run_.options.ramp_up * static_cast<double>(index) / n);
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

    Run& run_;
    Clients clients_;
    SessionPoller poller_;
};

int run(const Options& o) {
    const auto identities = read_clients(o.clients_file);
    if (identities.size() < o.clients)
        throw std::runtime_error(o.clients_file + " lists " + std::to_string(identities.size()) +
                                 " clients, " + std::to_string(o.clients) + " wanted");
    Trace trace;
    if (!o.trace_file.empty()) trace = read_trace(o.trace_file);
    if (trace.ops.empty() && o.hold <= 0)
        throw std::runtime_error("nothing to do: empty trace and no --hold");
    raise_fd_limit(o.clients, "bootstorm");

    Run run{.options = o,
            .trace = trace,
            .read_sink = std::vector<unsigned char>(std::max<std::uint32_t>(trace.max_read, 1)),
            .write_data = std::vector<unsigned char>(std::max<std::uint32_t>(trace.max_write, 1))};
    std::mt19937_64 rng{std::random_device{}()};
    std::generate(run.write_data.begin(), run.write_data.end(),
                  [&] { return static_cast<unsigned char>(rng()); });

    Storm storm(run, identities);
    const double seconds = storm.run();
    const auto boots = storm.boot_seconds();
    const double mibps = seconds > 0 ? static_cast<double>(run.bytes) / seconds / 1048576.0 : 0;
    const auto pct = [&](double p) { return boots.empty() ? 0.0 : percentile(boots, p); };

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

}  // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{
        "bootstorm: many diskless clients logging in, replaying a boot trace and logging out at once"};
    app.add_option("--portal", o.portal, "HOST:PORT of the iSCSI target")->capture_default_str();
    app.add_option("--clients-file", o.clients_file,
                   "one client a line: TARGET_IQN INITIATOR_IQN LUN [CHAP_USER CHAP_SECRET]")
        ->required();
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
    return run_or_report("bootstorm", [&] { return run(o); });
}
