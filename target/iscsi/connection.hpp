#pragma once
// One TCP connection (= one session, MaxConnections=1): a coroutine reading PDUs, a coroutine writing the
// outgoing queue, and a watchdog for the login and idle timeouts, all on one strand. SCSI commands that touch
// the backend go through the session's DiskLane to the disk pool, which posts their completion back to the
// strand in batches.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "target/iscsi/disk_lane.hpp"
#include "target/iscsi/login.hpp"
#include "target/iscsi/pdu.hpp"
#include "target/iscsi/server.hpp"
#include "target/iscsi/session.hpp"
#include "target/iscsi/task_management.hpp"

namespace bootherd::iscsi {

struct ServerContext;

class Connection : public std::enable_shared_from_this<Connection> {
  public:
    using Executor = boost::asio::strand<boost::asio::io_context::executor_type>;

    // `socket` must have been opened on `strand`.
    Connection(boost::asio::ip::tcp::socket socket, Executor strand, ServerContext& context);
    ~Connection();

    void start();
    // Graceful: stop reading, finish in-flight commands, send their status, then close. Thread-safe.
    void shutdown();
    // Immediate: drops the connection (session reinstatement, cold reset). Thread-safe.
    void close(std::string reason);

    // Identity, valid once in_full_feature() (published before the flag).
    bool in_full_feature() const { return full_feature_.load(std::memory_order_acquire); }
    const std::string& initiator_name() const { return initiator_name_; }
    std::uint64_t isid() const { return isid_; }
    const std::string& target_iqn() const { return target_iqn_; }
    // The initiator's address (IPv4-mapped IPv6 as IPv4); fixed at construction, so readable from any thread.
    const boost::asio::ip::address& peer_address() const { return peer_address_; }
    SessionInfo info() const;

    // Aborts this session's tasks on `lun` (all LUNs if empty) on behalf of another session's task management
    // function, then calls `done` (from this connection's strand) once none of them can touch the disk.
    void abort_for_other_session(std::optional<std::uint64_t> lun, scsi::Nexus by, bool notify_cleared,
                                 std::function<void()> done);

  private:
    enum class Phase { login, full_feature, draining, closed };

    struct Outgoing {
        enum class Kind : std::uint8_t { control, task } kind = Kind::control;
        enum class Numbers : std::uint8_t { as_built, current, advance } numbers = Numbers::as_built;
        Bhs bhs{};
        std::vector<std::uint8_t> data;  // keeps its capacity across reuse
        TaskSlot* slot = nullptr;
        bool starts_digests = false;  // the final login response: digests apply to every later PDU
    };

    struct Waiter {
        std::vector<std::uint16_t> slots;  // local tasks still able to touch the disk
        std::size_t remote_pending = 0;    // other sessions still aborting
        std::function<void()> done;
    };

    // Each coroutine holds `self` so that the connection outlives it.
    boost::asio::awaitable<void> read_loop(std::shared_ptr<Connection> self);
    boost::asio::awaitable<void> write_loop(std::shared_ptr<Connection> self);
    boost::asio::awaitable<void> watchdog(std::shared_ptr<Connection> self);

    // Socket reads go through a receive buffer in full feature phase, so that one read() brings many small
    // PDUs. take_buffered() copies `out` from the buffer if it holds all of it; receive() waits for the rest.
    bool take_buffered(std::span<std::byte> out);
    boost::asio::awaitable<bool> receive(std::span<std::byte> out);
    // Reading the data segment of the current PDU (plus padding and digest).
    boost::asio::awaitable<bool> read_segment(
        std::span<std::byte> destination);  // false: closed or digest error
    boost::asio::awaitable<bool> read_segment_to_buffer(std::uint32_t length);
    boost::asio::awaitable<bool> discard_segment(std::uint32_t length);

    // PDU handlers; false ends the read loop.
    boost::asio::awaitable<bool> on_login(const LoginRequest& request, std::uint32_t length);
    boost::asio::awaitable<bool> on_command(const ScsiCommand& command, std::uint32_t length);
    // Keeps the session's task buffers within max_session_buffer_bytes before a command that needs `need`
    // bytes of buffer is taken.
    enum class BufferRoom { granted, task_set_full, closed };
    boost::asio::awaitable<BufferRoom> make_buffer_room(std::size_t need);
    boost::asio::awaitable<bool> on_data_out(const DataOut& data, std::uint32_t length);
    boost::asio::awaitable<bool> on_nop_out(const NopOut& nop, std::uint32_t length);
    boost::asio::awaitable<bool> on_text(const TextRequest& text, std::uint32_t length);
    void on_task_management(const TaskManagementRequest& request);
    void on_logout(const LogoutRequest& request);

    void enter_full_feature(const LoginRequest& request);
    void raise(SessionEvent::Kind kind) const;
    void send_r2ts(TaskSlot& slot);
    void execute(TaskSlot& slot);
    void start_disk_worker();
    void start_deferred_disk_workers();
    void run_disk_turn();  // on a disk thread
    void collect_finished();
    void on_executed(TaskSlot& slot);
    void abort_local(std::optional<std::uint64_t> lun, std::optional<std::uint32_t> task_tag, Waiter& waiter);
    void task_finished(std::uint16_t slot_index);
    void check_waiters();
    void add_waiter(std::unique_ptr<Waiter> waiter);
    void finish_task_management(std::uint32_t task_tag, const TmfPlan& plan);

    // Outgoing queue.
    Outgoing* push(Outgoing::Kind kind, Outgoing::Numbers numbers);
    void queue_reject(RejectReason reason, const Bhs& rejected);
    void queue_text_response(const TextRequest& request);
    struct PduScratch;
    // What a finished task sends: how much Data-In, the residual, whether the status rides in the last
    // Data-In.
    struct TaskOutcome {
        std::uint32_t sent_length = 0;
        bool overflow = false;
        bool underflow = false;
        std::uint32_t residual = 0;
        bool status_in_data = false;
    };
    static TaskOutcome outcome_of(const scsi::Task& task);
    // Appends the PDUs at the head of the queue that carry no Data-In to tx_buffers_; returns how many.
    std::size_t gather_small_pdus();
    void append_pdu(Outgoing& entry, PduScratch& scratch);  // to tx_buffers_, numbered if not yet
    void build_status(TaskSlot& slot, Outgoing& entry, const TaskOutcome& outcome, std::uint32_t exp_data_sn);
    boost::asio::awaitable<bool> send_task(TaskSlot& slot);  // Data-In, then the status
    void wake_writer();
    void begin_drain(const char* reason);
    void maybe_finish_drain();
    void close_on_strand(const std::string& reason);
    std::chrono::steady_clock::time_point deadline() const;
    std::chrono::steady_clock::time_point next_ping() const;
    void send_ping();

    ServerContext& context_;
    boost::asio::ip::tcp::socket socket_;
    Executor strand_;
    boost::asio::steady_timer writer_wake_;
    boost::asio::steady_timer reader_wake_;
    boost::asio::steady_timer watchdog_timer_;
    std::string peer_;
    boost::asio::ip::address peer_address_;
    std::string portal_;  // "<ip>:<port>" of the local end, for TargetAddress
    std::chrono::steady_clock::time_point accepted_at_;
    std::chrono::steady_clock::time_point last_activity_;
    std::chrono::steady_clock::time_point last_ping_;
    std::uint32_t ping_tag_ = 0;         // Target Transfer Tag of the last NOP-In ping
    bool ping_outstanding_ = false;      // sent and not answered yet
    bool ping_silence_logged_ = false;   // an unanswered ping is logged once per connection
    bool data_sn_error_logged_ = false;  // likewise a DataSN error: a hostile initiator must not fill the log
    bool buffer_bound_logged_ = false;   // and reaching max_session_buffer_bytes

    Phase phase_ = Phase::login;
    std::string end_reason_;
    std::optional<LoginMachine> login_;
    std::uint32_t login_stat_sn_ = 0;
    bool login_started_ = false;
    bool login_busy_ = false;  // login_ is running on the disk pool: do not touch it
    std::unique_ptr<Session> session_;
    bool header_digest_ = false;  // receive side; the send side switches after the final login response
    bool data_digest_ = false;
    bool tx_header_digest_ = false;
    bool tx_data_digest_ = false;
    std::uint32_t max_receive_ = kDefaultMaxRecvDataSegmentLength;

    // Identity, published by full_feature_.
    std::string initiator_name_;
    std::string chap_user_;  // the CHAP user this session proved to be; empty without CHAP
    std::uint64_t isid_ = 0;
    std::string target_iqn_;
    std::atomic<bool> full_feature_{false};
    std::atomic<std::uint64_t> bytes_read_{0}, bytes_written_{0}, commands_{0};
    bool counted_session_ = false;  // a normal session, counted in the server's stats and events
    bool read_seen_ = false;        // the first_read event was raised

    // Receive side.
    std::unique_ptr<std::byte[]> rx_buffer_;  // kReceiveBuffer bytes, from full feature phase on
    std::size_t rx_begin_ = 0, rx_end_ = 0;   // the buffered, not yet consumed bytes
    Bhs rx_bhs_{};
    std::array<std::uint8_t, kMaxAhsSize> rx_ahs_{};
    std::vector<std::uint8_t> rx_data_;
    bool digest_error_ = false;
    std::vector<std::uint8_t> text_pending_;  // Text Request continuation (C bit)
    std::string text_reply_;                  // Text Response continuation
    std::size_t text_reply_sent_ = 0;

    // Send side: a fixed ring of outgoing entries, scatter/gather straight from task buffers.
    std::size_t ring_capacity_;
    std::unique_ptr<Outgoing[]> ring_;
    std::size_t ring_head_ = 0;
    std::size_t ring_count_ = 0;
    std::size_t control_queued_ = 0;
    bool reader_waiting_ = false;
    struct PduScratch {
        std::array<std::uint8_t, kBhsSize + 4> header{};  // BHS + header digest
        std::array<std::uint8_t, 8> trailer{};            // padding + data digest
    };
    std::vector<PduScratch> tx_scratch_;
    std::vector<boost::asio::const_buffer> tx_buffers_;

    std::vector<std::unique_ptr<Waiter>> waiters_;
    std::size_t executing_ = 0;  // tasks handed to the disk lane and not yet collected

    DiskLane lane_;
    unsigned deferred_workers_ = 0;  // workers the lane asked for while the reader still had PDUs buffered
    std::vector<std::uint16_t> lane_finished_;  // scratch for collect_finished(), sized to the lane
    // Keeps the network threads running while tasks are on the disk pool (their completion must be
    // delivered).
    std::optional<boost::asio::executor_work_guard<Executor>> disk_work_;
};

}  // namespace bootherd::iscsi
