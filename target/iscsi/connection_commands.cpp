// Connection: SCSI commands, Data-Out and R2T, and the hand-off of commands to the disk pool.
#include "target/iscsi/connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/defer.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>

#include "common/crc32c.hpp"
#include "common/log.hpp"
#include "target/iscsi/connection_detail.hpp"
#include "target/iscsi/server_context.hpp"
#include "target/iscsi/text.hpp"
#include "target/scsi/logical_unit.hpp"

namespace bootherd::iscsi {
namespace asio = boost::asio;
using asio::awaitable;
using namespace connection_detail;

namespace {

bool is_read_opcode(std::uint8_t opcode) {
    return opcode == 0x08 || opcode == 0x28 || opcode == 0xa8 || opcode == 0x88;  // READ 6/10/12/16
}

// The buffer a command may grow its task's to: its Data-Out (expected length), or its Data-In, which the SCSI
// layer builds whole as the CDB asks, whatever the expected length, up to BlockLimits::kMaxTransferBytes for
// a READ (larger ones fail before touching the buffer). The block size is not known here: 512 bytes, the
// smallest, so an honest command is never overcharged; the charge is settled to the real size once it ran.
std::size_t buffer_need(const ScsiCommand& command) {
    const std::size_t expected = command.expected_data_transfer_length;
    const auto& cdb = command.cdb;
    std::uint64_t blocks = 0;
    switch (cdb[0]) {
        case 0x08:  // READ(6): 0 means 256 blocks
            blocks = cdb[4] == 0 ? 256 : cdb[4];
            break;
        case 0x28:  // READ(10)
            blocks = load_be<std::uint16_t>(cdb.data() + 7);
            break;
        case 0xa8:  // READ(12)
            blocks = load_be<std::uint32_t>(cdb.data() + 6);
            break;
        case 0x88:  // READ(16)
            blocks = load_be<std::uint32_t>(cdb.data() + 10);
            break;
        default:
            return expected;
    }
    const std::uint64_t asked = std::min<std::uint64_t>(blocks * 512, scsi::BlockLimits::kMaxTransferBytes);
    return std::max(expected, static_cast<std::size_t>(asked));
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// SCSI commands and data

awaitable<Connection::BufferRoom> Connection::make_buffer_room(std::size_t need) {
    const std::size_t limit = context_.options.max_session_buffer_bytes;
    while (session_->buffer_bytes() + need > limit) {
        session_->trim(limit > need ? limit - need : 0);
        if (session_->buffer_bytes() + need <= limit) break;
        const bool draining_soon =
            session_->any_in(TaskSlot::State::executing) || session_->any_in(TaskSlot::State::responding);
        if (!draining_soon) {
            // Only writes waiting for their Data-Out hold the memory, and that data may be queued behind this
            // command: waiting could wait forever. The initiator is told to retry (SAM-5 TASK SET FULL).
            // With nothing held at all, the command is taken whatever its size, so that it can progress.
            if (session_->any_in(TaskSlot::State::receiving)) co_return BufferRoom::task_set_full;
            break;
        }
        if (!buffer_bound_logged_)
            log::info("iSCSI initiator ", initiator_name_, " (", peer_, ") holds max_session_buffer_bytes (",
                      limit,
                      ") in unread responses and buffers; its commands wait (logged once per session)");
        buffer_bound_logged_ = true;
        // Stop reading the socket until this session's own responses drain (the writer wakes the reader):
        // TCP back-pressure then stops the initiator, whatever its CmdSN window.
        start_deferred_disk_workers();
        reader_waiting_ = true;
        reader_wake_.expires_at(std::chrono::steady_clock::time_point::max());
        co_await reader_wake_.async_wait(kNoThrow);
        reader_waiting_ = false;
        if (phase_ != Phase::full_feature) co_return BufferRoom::closed;
    }
    co_return BufferRoom::granted;
}

awaitable<bool> Connection::on_command(const ScsiCommand& command, std::uint32_t length) {
    if (session_->discovery()) {
        if (!co_await discard_segment(length)) co_return false;
        queue_reject(RejectReason::protocol_error, rx_bhs_);
        co_return true;
    }
    const SessionParams& params = session_->params();
    if (length > 0 && (!command.write || !params.immediate_data || length > params.first_burst_length ||
                       length > command.expected_data_transfer_length)) {
        queue_reject(RejectReason::protocol_error, rx_bhs_);
        co_return false;
    }
    if (!session_->admit(command.cmd_sn, command.immediate)) co_return co_await discard_segment(length);
    if (session_->find(command.initiator_task_tag)) {
        queue_reject(RejectReason::task_in_progress, rx_bhs_);
        co_return co_await discard_segment(length);
    }
    if (command.expected_data_transfer_length > kMaxTransferLength) {
        queue_reject(RejectReason::invalid_pdu_field, rx_bhs_);
        co_return co_await discard_segment(length);
    }
    const std::size_t need = buffer_need(command);
    BufferRoom room = BufferRoom::granted;
    if (session_->buffer_bytes() + need > context_.options.max_session_buffer_bytes)  // the slow path only
        room = co_await make_buffer_room(need);
    if (room == BufferRoom::closed) co_return false;
    TaskSlot* slot = session_->allocate(command.immediate, command.initiator_task_tag);
    if (!slot) {
        queue_reject(RejectReason::immediate_command_reject, rx_bhs_);
        co_return co_await discard_segment(length);
    }
    if (room == BufferRoom::task_set_full) {
        if (!co_await discard_segment(length)) co_return false;
        slot->arrived = std::chrono::steady_clock::now();
        slot->lun_field = command.lun;
        slot->task.read_flag = command.read;
        slot->task.write_flag = command.write;
        slot->task.expected_length = command.expected_data_transfer_length;
        slot->task.status = scsi::Status::task_set_full;
        slot->state = TaskSlot::State::executing;
        on_executed(*slot);
        co_return true;
    }
    session_->charge(*slot, need);
    slot->arrived = std::chrono::steady_clock::now();
    scsi::Task& task = slot->task;
    std::copy(command.cdb.begin(), command.cdb.end(), task.cdb_bytes.begin());
    const std::size_t extended = std::min(command.extended_cdb.size(), scsi::Task::kMaxCdb - 16);
    std::copy_n(command.extended_cdb.begin(), extended, task.cdb_bytes.begin() + 16);
    task.cdb_length = 16 + extended;
    task.lun = decode_lun(command.lun);
    task.expected_length = command.expected_data_transfer_length;
    task.read_flag = command.read;
    task.write_flag = command.write;
    task.attribute = command.attribute <= 4 ? static_cast<scsi::TaskAttribute>(command.attribute)
                                            : scsi::TaskAttribute::simple;
    slot->lun_field = command.lun;

    if (!read_seen_ && is_read_opcode(command.cdb[0])) {
        read_seen_ = true;
        raise(SessionEvent::Kind::first_read);
    }
    if (!command.write) {
        execute(*slot);
        co_return true;
    }
    const std::span<std::byte> buffer = task.data_out_buffer(task.expected_length);
    if (!co_await read_segment(buffer.first(length))) co_return false;
    bytes_written_.fetch_add(length, std::memory_order_relaxed);
    context_.stats.bytes_written.fetch_add(length, std::memory_order_relaxed);
    slot->write.start(task.expected_length, length, command.final_bit,
                      WriteParams{params.initial_r2t, params.first_burst_length, params.max_burst_length,
                                  params.max_outstanding_r2t});
    if (slot->write.complete()) {
        task.data_out_length = slot->write.received();
        execute(*slot);
    } else {
        send_r2ts(*slot);
    }
    co_return true;
}

awaitable<bool> Connection::on_data_out(const DataOut& data, std::uint32_t length) {
    TaskSlot* slot = session_->discovery() ? nullptr : session_->find(data.initiator_task_tag);
    // Data for a task we do not know (aborted, or its command ignored as outside the window) is dropped.
    if (!slot || slot->state != TaskSlot::State::receiving) co_return co_await discard_segment(length);
    std::uint32_t r2t_slot = WriteTransfer::kUnsolicited;
    if (data.target_transfer_tag != kReservedTag) {
        if ((data.target_transfer_tag >> 4) != slot->index) {
            queue_reject(RejectReason::invalid_pdu_field, rx_bhs_);
            co_return false;
        }
        r2t_slot = data.target_transfer_tag & 0x0f;
    }
    if (slot->write.accept(r2t_slot, data.buffer_offset, length, data.final_bit, data.data_sn) !=
        WriteTransfer::Result::accepted) {
        queue_reject(RejectReason::protocol_error, rx_bhs_);
        co_return false;
    }
    // accept() guaranteed offset + length <= expected_length, the size of the buffer.
    const std::span<std::byte> buffer = slot->task.data_out_buffer(slot->task.expected_length);
    if (!co_await read_segment(buffer.subspan(data.buffer_offset, length))) co_return false;
    bytes_written_.fetch_add(length, std::memory_order_relaxed);
    context_.stats.bytes_written.fetch_add(length, std::memory_order_relaxed);
    if (slot->state != TaskSlot::State::receiving) co_return true;  // aborted while we were reading
    if (slot->write.complete()) {
        slot->task.data_out_length = slot->write.received();
        if (slot->write.data_sn_error()) {
            if (!data_sn_error_logged_)
                log::warn("iSCSI initiator ", initiator_name_, " (", peer_,
                          ") sent Data-Out out of DataSN order; such commands end in CHECK CONDITION"
                          " (logged once per connection)");
            data_sn_error_logged_ = true;
            slot->state = TaskSlot::State::executing;
            session_->device().fail_delivery(slot->task);
            on_executed(*slot);
        } else {
            execute(*slot);
        }
    } else if (data.final_bit) {
        send_r2ts(*slot);
    }
    co_return true;
}

void Connection::send_r2ts(TaskSlot& slot) {
    while (auto r2t = slot.write.next_r2t()) {
        Outgoing* out = push(Outgoing::Kind::control, Outgoing::Numbers::current);
        if (!out) return;
        ReadyToTransfer pdu;
        pdu.lun = slot.lun_field;
        pdu.initiator_task_tag = slot.initiator_task_tag;
        pdu.target_transfer_tag = (std::uint32_t{slot.index} << 4) | r2t->slot;
        pdu.r2t_sn = r2t->r2t_sn;
        pdu.buffer_offset = r2t->offset;
        pdu.desired_length = r2t->length;
        build(out->bhs, pdu, {});
        out->data.clear();
    }
    wake_writer();
}

void Connection::execute(TaskSlot& slot) {
    slot.state = TaskSlot::State::executing;
    scsi::TargetDevice& device = session_->device();
    if (device.runs_inline(slot.task)) {
        device.execute(slot.task);
        on_executed(slot);
        return;
    }
    // A read of cached data completes here without blocking; only what must wait goes to the disk pool.
    if (device.try_execute_nowait(slot.task)) {
        on_executed(slot);
        return;
    }
    if (executing_++ == 0) disk_work_.emplace(strand_);
    // execute() runs only from the read loop, which starts the deferred workers before it waits for anything.
    if (lane_.push(slot.index)) ++deferred_workers_;
}

void Connection::start_deferred_disk_workers() {
    for (; deferred_workers_ > 0; --deferred_workers_)
        start_disk_worker();
}

void Connection::start_disk_worker() {
    asio::post(context_.disk_pool, [self = shared_from_this()] { self->run_disk_turn(); });
}

void Connection::run_disk_turn() {
    for (unsigned n = 0; n < DiskLane::kTasksPerTurn; ++n) {
        const std::optional<std::uint16_t> index = lane_.next();
        if (!index) return;
        TaskSlot& slot = *session_->slot(*index);
        if (!slot.aborted.load(std::memory_order_acquire)) session_->device().execute(slot.task);
        if (lane_.finished(*index))
            asio::post(strand_, [self = shared_from_this()] { self->collect_finished(); });
    }
    // The turn is over: other sessions' workers queued meanwhile go first. Deferred, not posted: this thread
    // picks the worker up again itself when nothing else is queued, instead of waking another disk thread.
    asio::defer(context_.disk_pool, [self = shared_from_this()] { self->run_disk_turn(); });
}

void Connection::collect_finished() {
    const std::size_t n = lane_.take_finished(lane_finished_);
    for (std::size_t i = 0; i < n; ++i) {
        --executing_;
        on_executed(*session_->slot(lane_finished_[i]));
    }
    if (executing_ == 0) disk_work_.reset();
}

void Connection::on_executed(TaskSlot& slot) {
    session_->settle(slot);
    if (phase_ == Phase::closed || slot.aborted.load(std::memory_order_relaxed)) {
        session_->release(slot);
        task_finished(slot.index);
        if (phase_ == Phase::draining) maybe_finish_drain();
        return;
    }
    commands_.fetch_add(1, std::memory_order_relaxed);
    context_.stats.command_completed(std::chrono::steady_clock::now() - slot.arrived);
    slot.state = TaskSlot::State::responding;
    Outgoing* out = push(Outgoing::Kind::task, Outgoing::Numbers::advance);
    if (!out) return;
    out->slot = &slot;
    wake_writer();
}

}  // namespace bootherd::iscsi
