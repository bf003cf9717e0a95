#pragma once
// bootstorm's inputs and its one client session: the clients file, the boot trace, and a session that logs
// in, replays the trace with up to a queue depth of commands in flight (optionally after holding idle) and
// logs out.
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "iscsi_client.hpp"

extern "C" {
#include <iscsi/scsi-lowlevel.h>
}

namespace bootherd::bench {

struct ClientIdentity {
    std::string target;
    std::string initiator;
    int lun = 0;
    std::string chap_user;  // empty: no authentication
    std::string chap_secret;
};

// Lines "TARGET_IQN INITIATOR_IQN LUN [CHAP_USER CHAP_SECRET]"; blank lines and '#' comments are skipped.
std::vector<ClientIdentity> read_clients(const std::string& path);

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
Trace read_trace(const std::string& path);

// Buffers and counters shared by all sessions; everything runs on one thread.
struct Run {
    unsigned queue_depth = 4;
    double nop_interval = 1;
    std::vector<unsigned char> read_sink{};  // every read lands here and is dropped
    std::vector<unsigned char> write_data{};
    std::uint64_t bytes = 0;
    ErrorLog errors{"bootstorm"};
    bool holding = false;  // true until every client has logged in and the hold time has passed
};

// Buffers big enough for `trace`'s commands; the written data is random.
void size_buffers(Run& run, const Trace& trace);

// A client that has not started yet is idle; one that booted is closed. `identity`, `trace` and `portal` must
// outlive it.
class Client : public AsyncSession {
  public:
    // `isid_index` tells the sessions of one process apart (each is a new session, never a reinstatement).
    Client(Run& run, const Trace& trace, const ClientIdentity& identity, unsigned isid_index,
           const std::string& portal, const std::string& label);

    // Logged in, waiting for the hold to end.
    bool holding() const { return phase() == Phase::open && !replaying_; }
    double boot_seconds() const { return std::chrono::duration<double>(finished_ - started_).count(); }
    Clock::time_point started() const { return started_; }
    // When READ CAPACITY answered: the login (a redirect included) is done.
    Clock::time_point logged_in() const { return logged_in_; }
    Clock::time_point finished() const { return finished_; }

    void start();
    // Time-driven work: the end of a hold, and the NOP-Outs that keep an idle session visibly alive.
    void tick(Clock::time_point now);
    void give_up(const char* why);

  private:
    // One command in flight; libiscsi keeps a pointer to its iovec until the command completes.
    struct Slot {
        Client* owner = nullptr;
        scsi_iovec iov{};
        std::uint32_t length = 0;
        bool busy = false;
    };

    void opened(std::uint32_t block_length, std::uint64_t last_lba) override;
    void ended() override { finished_ = Clock::now(); }
    bool fits(std::uint32_t block_length, std::uint64_t last_lba) const;
    bool replaying() const { return phase() == Phase::open && replaying_; }
    void begin_replay();
    void fill_queue();
    bool submit(const TraceOp& op);
    static void on_io_done(iscsi_context* ctx, int status, void* data, void* slot_ptr);
    static void on_nop_reply(iscsi_context*, int status, void*, void* self_ptr);

    Run& run_;
    const Trace& trace_;
    const ClientIdentity& identity_;
    unsigned isid_index_;
    const std::string& portal_;
    std::vector<Slot> slots_;
    bool replaying_ = false;
    std::size_t next_op_ = 0;
    unsigned in_flight_ = 0;
    std::uint32_t block_length_ = 0;
    bool nop_in_flight_ = false;
    Clock::time_point next_nop_{};
    Clock::time_point started_{};
    Clock::time_point logged_in_{};
    Clock::time_point finished_{};
};

// Nearest-rank percentile of sorted values (0 when there are none).
double percentile(const std::vector<double>& sorted, double p);

}  // namespace bootherd::bench
