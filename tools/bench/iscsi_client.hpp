#pragma once
// What the libiscsi benchmark clients (iscsi_load, bootstorm) share: one asynchronous session's login, LUN
// sizing and logout, the poll() loop that drives many sessions from one thread, and their error reporting.
#include <poll.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

extern "C" {
#include <iscsi/iscsi.h>
}

namespace bootherd::bench {

using Clock = std::chrono::steady_clock;

inline Clock::duration from_seconds(double seconds) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// Counts errors and prints the first 20 to stderr as "PROGRAM: what"; the rest are only counted, so that a
// storm of failures does not bury the summary.
class ErrorLog {
  public:
    explicit ErrorLog(std::string program) : program_(std::move(program)) {}

    void report(const std::string& what);
    std::uint64_t count() const { return count_; }

  private:
    std::string program_;
    std::uint64_t count_ = 0;
};

// main()'s last step: returns what `run` returns, or, when it throws, prints "PROGRAM: what" and returns
// exit status 2 (the run failed, as against 1 for a run that counted errors).
int run_or_report(const std::string& program, const std::function<int()>& run);

// One socket per session: lift the soft descriptor limit as far as the hard one allows, and say so on stderr
// when that is not far enough.
void raise_fd_limit(unsigned sessions, const std::string& program);

// One iSCSI session on libiscsi's asynchronous API: connect and log in, READ CAPACITY(16), the derived
// class's commands, logout. Its callbacks run inside service(), which a SessionPoller calls. A failure is
// reported once ("LABEL: STAGE failed: WHY") and ends the session.
class AsyncSession {
  public:
    enum class Phase { idle, connecting, sizing, open, logging_out, closed, failed };

    virtual ~AsyncSession();
    AsyncSession(const AsyncSession&) = delete;
    AsyncSession& operator=(const AsyncSession&) = delete;

    Phase phase() const { return phase_; }
    bool logging_in() const { return phase_ == Phase::connecting || phase_ == Phase::sizing; }
    // Connected or on its way there: its socket wants polling.
    bool live() const { return ctx_ != nullptr && phase_ != Phase::closed && phase_ != Phase::failed; }
    iscsi_context* context() const { return ctx_; }
    // The portal ("HOST:PORT[,TAG]") a login redirect (status 0x0101) sent the session to, which libiscsi's
    // login follows by itself; "" when the target did not redirect it.
    std::string redirected_to() const;

    // Lets libiscsi handle the socket events poll() reported; a negative return means the connection is gone.
    void service(int revents);
    // Starts the logout of an open session.
    void log_out();

  protected:
    AsyncSession(ErrorLog& errors, std::string label) : errors_(errors), label_(std::move(label)) {}

    // Creates the context of a new normal session from `initiator` to `target`; false if libiscsi cannot.
    // `isid` must differ between the sessions of one process: every session is a new one, never a
    // reinstatement of a sibling.
    bool create_context(const std::string& initiator, const std::string& target, std::uint32_t isid);
    // Connects to `portal` (HOST:PORT) and logs in, then sizes `lun`; opened() follows.
    void connect(const std::string& portal, int lun);
    void fail(const char* stage, const char* why);
    // Ends the session as failed without a report, for a failure the caller has already reported.
    void mark_failed();

    // READ CAPACITY(16) has answered and the session is open: check that the LUN fits (fail() if not) and
    // start the I/O.
    virtual void opened(std::uint32_t block_length, std::uint64_t last_lba) = 0;
    // The session has closed (logout) or failed.
    virtual void ended() {}

  private:
    static void on_connected(iscsi_context*, int status, void*, void* self_ptr);
    static void on_capacity(iscsi_context*, int status, void* data, void* self_ptr);
    static void on_logged_out(iscsi_context*, int status, void*, void* self_ptr);

    ErrorLog& errors_;
    std::string label_;
    iscsi_context* ctx_ = nullptr;
    Phase phase_ = Phase::idle;
    int lun_ = 0;
};

// Drives many sessions from one thread: one poll() over the sockets of the live ones, then service() for
// each that is ready. Hung commands are left to the callers' deadlines rather than to libiscsi's per-command
// timeouts, which cost the client a large share of its throughput.
class SessionPoller {
  public:
    template <typename Session>
    void poll_once(const std::vector<std::unique_ptr<Session>>& sessions, int timeout_ms) {
        fds_.clear();
        owners_.clear();
        for (auto& s : sessions)
            watch(*s);
        wait(timeout_ms);
    }

  private:
    void watch(AsyncSession& session);
    void wait(int timeout_ms);

    std::vector<pollfd> fds_;
    std::vector<AsyncSession*> owners_;  // owners_[i] owns fds_[i]
};

}  // namespace bootherd::bench
