#pragma once
// One iSCSI session in full feature phase (one connection per session): the nexus, the negotiated parameters,
// the fixed pool of reusable SCSI tasks and the command / status numbering (RFC 7143 §4.2.2).
// Confined to its connection's strand except for `TaskSlot::aborted`, which disk threads read.
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "target/iscsi/data_transfer.hpp"
#include "target/iscsi/negotiation.hpp"
#include "target/iscsi/pdu.hpp"
#include "target/iscsi/target_directory.hpp"
#include "target/scsi/task.hpp"

namespace bootherd::iscsi {

struct TaskSlot {
    enum class State : std::uint8_t {
        free,
        receiving,   // waiting for Data-Out
        executing,   // queued on or running on a disk thread
        responding,  // queued for sending or being sent
    };

    scsi::Task task;
    std::atomic<bool> aborted{false};  // read by the disk thread before it executes
    State state = State::free;
    bool immediate = false;
    std::uint16_t index = 0;
    std::uint32_t initiator_task_tag = 0;
    std::size_t charged = 0;                        // this slot's share of Session::buffer_bytes()
    std::chrono::steady_clock::time_point arrived;  // when its SCSI Command PDU was read, for latency stats
    std::array<std::uint8_t, 8> lun_field{};
    WriteTransfer write;
    std::array<std::uint8_t, 2 + scsi::Task::kSenseSize> sense_segment{};  // SenseLength + sense, for sending
};

// RFC 1982 serial number arithmetic on 32-bit sequence numbers.
inline bool serial_less_equal(std::uint32_t a, std::uint32_t b) noexcept {
    return static_cast<std::int32_t>(b - a) >= 0;
}

class Session {
  public:
    static constexpr std::uint32_t kImmediateReserve = 8;  // extra tasks for immediate commands

    // `target` is null for a discovery session, which has no device and no tasks.
    Session(std::shared_ptr<const TargetNode> target, scsi::Nexus nexus, SessionParams params,
            std::uint32_t queue_depth, std::uint32_t exp_cmd_sn, std::uint32_t stat_sn);
    ~Session();  // detaches the nexus from the device
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    bool discovery() const { return !target_; }
    const std::shared_ptr<const TargetNode>& target() const { return target_; }
    scsi::TargetDevice& device() const { return *target_->device; }
    const scsi::Nexus& nexus() const { return nexus_; }
    const SessionParams& params() const { return params_; }

    // CmdSN admission for a PDU carrying `cmd_sn`: false means outside the window (silently ignored).
    // Non-immediate PDUs inside the window advance ExpCmdSN.
    bool admit(std::uint32_t cmd_sn, bool immediate);

    // The numbers for the next PDU sent; `advance` consumes a StatSN (responses that carry status).
    SequenceNumbers numbers(bool advance);
    std::uint32_t exp_cmd_sn() const { return exp_cmd_sn_; }

    // A free task, or nullptr when the pool (or the immediate reserve) is exhausted.
    TaskSlot* allocate(bool immediate, std::uint32_t initiator_task_tag);
    void release(TaskSlot& slot);
    TaskSlot* find(std::uint32_t initiator_task_tag);
    TaskSlot* slot(std::size_t index) { return index < pool_size_ ? &slots_[index] : nullptr; }
    std::size_t pool_size() const { return pool_size_; }
    std::size_t in_use() const { return in_use_; }
    bool any_in(TaskSlot::State state) const;  // a scan of the pool: not for every command

    // Task buffer memory: the bytes the slots' grow-only buffers hold, or are about to need for the commands
    // they were given (a Task sends its Data-In from its own buffer, so unsent Data-In is counted here too).
    std::size_t buffer_bytes() const { return buffer_bytes_; }
    // Counts what `slot`'s command may grow its buffer to (at least what it holds).
    void charge(TaskSlot& slot, std::size_t need);
    // Counts what `slot`'s buffer holds now that its command has run.
    void settle(TaskSlot& slot);
    // Frees the buffers of free slots until buffer_bytes() <= target or none is left to free. Allocation
    // returns only when a session runs past its bound, never in its steady state below it.
    void trim(std::size_t target);

  private:
    std::shared_ptr<const TargetNode> target_;
    scsi::Nexus nexus_;
    SessionParams params_;
    std::uint32_t queue_depth_;
    std::uint32_t exp_cmd_sn_;
    std::uint32_t stat_sn_;
    std::uint32_t advertised_max_cmd_sn_;  // the highest MaxCmdSN sent so far
    std::size_t pool_size_;
    std::unique_ptr<TaskSlot[]> slots_;
    std::vector<std::uint16_t> free_;
    std::size_t in_use_ = 0;
    std::uint32_t queued_ = 0;      // non-immediate tasks holding a window position
    std::uint32_t immediate_ = 0;   // immediate tasks in the reserve
    std::size_t buffer_bytes_ = 0;  // the sum of the slots' `charged`
};

}  // namespace bootherd::iscsi
