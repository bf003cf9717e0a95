// Connection: the write loop that sends queued PDUs, Data-In sequences and status.
#include "target/iscsi/connection.hpp"

#include <boost/asio/co_spawn.hpp>
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

namespace bootherd::iscsi {
namespace asio = boost::asio;
using asio::awaitable;
using namespace connection_detail;

// ---------------------------------------------------------------------------------------------------------------
// Sending

Connection::Outgoing* Connection::push(Outgoing::Kind kind, Outgoing::Numbers numbers) {
    if (phase_ == Phase::closed) return nullptr;
    if (ring_count_ == ring_capacity_) {
        close_on_strand("send queue overflow");
        return nullptr;
    }
    Outgoing& out = ring_[(ring_head_ + ring_count_) % ring_capacity_];
    ++ring_count_;
    out.kind = kind;
    out.numbers = numbers;
    out.slot = nullptr;
    out.starts_digests = false;
    if (kind == Outgoing::Kind::control) ++control_queued_;
    return &out;
}

void Connection::queue_reject(RejectReason reason, const Bhs& rejected) {
    Outgoing* out = push(Outgoing::Kind::control, Outgoing::Numbers::advance);
    if (!out) return;
    build(out->bhs, RejectPdu{reason, kBhsSize}, {});
    out->data.assign(rejected.begin(), rejected.end());
    wake_writer();
}

void Connection::wake_writer() {
    writer_wake_.cancel();
}

Connection::TaskOutcome Connection::outcome_of(const scsi::Task& task) {
    TaskOutcome o;
    const std::uint32_t expected = task.expected_length;
    if (task.read_flag) {
        const std::uint32_t produced = task.data_in_length;
        o.sent_length = std::min(produced, expected);
        o.overflow = produced > expected;
        o.underflow = produced < expected;
        o.residual = o.overflow ? produced - expected : expected - produced;
    } else if (task.write_flag && task.cdb_data_out_length) {
        const std::uint32_t wanted = *task.cdb_data_out_length;
        o.overflow = wanted > expected;
        o.underflow = wanted < expected;
        o.residual = o.overflow ? wanted - expected : expected - wanted;
    } else if (task.write_flag && task.data_out_length < expected) {
        o.underflow = true;
        o.residual = expected - task.data_out_length;
    }
    // Status rides in the last Data-In when there is no sense data to send (RFC 7143 §11.7.4).
    o.status_in_data = o.sent_length > 0 && task.sense_length == 0;
    return o;
}

awaitable<void> Connection::write_loop(std::shared_ptr<Connection> /*keeps this alive*/) {
    while (phase_ != Phase::closed) {
        if (ring_count_ == 0) {
            if (phase_ == Phase::draining && executing_ == 0 && waiters_.empty()) {
                close_on_strand(end_reason_);
                break;
            }
            writer_wake_.expires_at(std::chrono::steady_clock::time_point::max());
            co_await writer_wake_.async_wait(kNoThrow);
            continue;
        }
        Outgoing& head = ring_[ring_head_];
        std::size_t entries = 1;
        bool ok = false;
        if (head.kind == Outgoing::Kind::task && outcome_of(head.slot->task).sent_length > 0) {
            ok = co_await send_task(*head.slot);
        } else {
            // Control PDUs and status-only responses (writes, non-data commands) leave in one gathered write:
            // one system call, and one wake-up of the initiator, for a whole batch of completions.
            tx_buffers_.clear();
            entries = gather_small_pdus();
            auto [ec, n] = co_await asio::async_write(socket_, tx_buffers_, kNoThrow);
            ok = !ec;
        }
        if (phase_ == Phase::closed) break;
        if (!ok) {
            close_on_strand("send failed");
            break;
        }
        for (std::size_t i = 0; i < entries; ++i) {
            Outgoing& entry = ring_[ring_head_];
            if (entry.starts_digests) {
                tx_header_digest_ = session_->params().header_digest;
                tx_data_digest_ = session_->params().data_digest;
            }
            if (entry.kind == Outgoing::Kind::control) {
                --control_queued_;
            } else {
                session_->release(*entry.slot);
            }
            ring_head_ = (ring_head_ + 1) % ring_capacity_;
            --ring_count_;
        }
        if (reader_waiting_) reader_wake_.cancel();
    }
}

std::size_t Connection::gather_small_pdus() {
    std::size_t n = 0;
    while (n < ring_count_ && n < kBatchPdus) {
        Outgoing& entry = ring_[(ring_head_ + n) % ring_capacity_];
        if (entry.kind == Outgoing::Kind::task) {
            const TaskOutcome outcome = outcome_of(entry.slot->task);
            if (outcome.sent_length > 0) break;  // Data-In goes through send_task
            build_status(*entry.slot, entry, outcome, 0);
        }
        append_pdu(entry, tx_scratch_[n]);
        ++n;
        if (entry.starts_digests) break;  // what follows must be built with digests
    }
    return n;
}

void Connection::append_pdu(Outgoing& entry, PduScratch& scratch) {
    if (entry.numbers != Outgoing::Numbers::as_built) {
        SequenceNumbers sn = session_->numbers(entry.numbers == Outgoing::Numbers::advance);
        set_sequence_numbers(entry.bhs, sn);
        entry.numbers = Outgoing::Numbers::as_built;
    }
    std::copy(entry.bhs.begin(), entry.bhs.end(), scratch.header.begin());
    std::size_t header_size = kBhsSize;
    if (tx_header_digest_) {
        put_digest(scratch.header.data() + kBhsSize, crc32c(entry.bhs.data(), kBhsSize));
        header_size += 4;
    }
    const auto length = static_cast<std::uint32_t>(entry.data.size());
    const std::size_t pad = padded_length(length) - length;
    std::size_t trailer = pad;
    std::fill_n(scratch.trailer.begin(), pad, 0);
    if (tx_data_digest_ && length > 0) {
        const std::uint32_t crc = crc32c(kPadding.data(), pad, crc32c(entry.data.data(), length));
        put_digest(scratch.trailer.data() + pad, crc);
        trailer += 4;
    }
    tx_buffers_.push_back(asio::buffer(scratch.header.data(), header_size));
    if (length > 0) tx_buffers_.push_back(asio::buffer(entry.data));
    if (trailer > 0) tx_buffers_.push_back(asio::buffer(scratch.trailer.data(), trailer));
}

void Connection::build_status(TaskSlot& slot, Outgoing& entry, const TaskOutcome& outcome,
                              std::uint32_t exp_data_sn) {
    const scsi::Task& task = slot.task;
    // A separate SCSI Response, with sense data when there is any.
    const std::size_t sense_length = std::min(task.sense_length, task.sense.size());
    std::uint32_t segment = 0;
    if (sense_length > 0) {
        store_be(slot.sense_segment.data(), static_cast<std::uint16_t>(sense_length));
        std::copy_n(task.sense.begin(), sense_length, slot.sense_segment.begin() + 2);
        segment = static_cast<std::uint32_t>(2 + sense_length);
    }
    ScsiResponse response;
    response.initiator_task_tag = slot.initiator_task_tag;
    response.status = static_cast<std::uint8_t>(task.status);
    response.overflow = outcome.overflow;
    response.underflow = outcome.underflow;
    response.residual_count = outcome.residual;
    response.exp_data_sn = exp_data_sn;
    response.data_segment_length = segment;
    build(entry.bhs, response, session_->numbers(true));
    entry.data.assign(slot.sense_segment.begin(), slot.sense_segment.begin() + segment);
    entry.numbers = Outgoing::Numbers::as_built;
}

awaitable<bool> Connection::send_task(TaskSlot& slot) {
    const scsi::Task& task = slot.task;
    const SessionParams& params = session_->params();
    const TaskOutcome outcome = outcome_of(task);
    const auto data = task.data_in_view().first(outcome.sent_length);

    DataInSplitter splitter(outcome.sent_length, params.initiator_max_recv_data_segment_length,
                            params.max_burst_length);
    std::uint32_t data_sn = 0;
    while (!splitter.done()) {
        tx_buffers_.clear();
        for (std::size_t i = 0; i < kBatchPdus && !splitter.done(); ++i) {
            const DataInPdu next = splitter.next();
            PduScratch& scratch = tx_scratch_[i];
            DataIn pdu;
            pdu.final_bit = next.final_bit;
            pdu.lun = slot.lun_field;
            pdu.initiator_task_tag = slot.initiator_task_tag;
            pdu.data_sn = next.data_sn;
            pdu.buffer_offset = next.offset;
            pdu.data_segment_length = next.length;
            pdu.status_present = next.last && outcome.status_in_data;
            if (pdu.status_present) {
                pdu.status = static_cast<std::uint8_t>(task.status);
                pdu.overflow = outcome.overflow;
                pdu.underflow = outcome.underflow;
                pdu.residual_count = outcome.residual;
            }
            Bhs bhs;
            build(bhs, pdu, session_->numbers(pdu.status_present));
            std::copy(bhs.begin(), bhs.end(), scratch.header.begin());
            std::size_t header_size = kBhsSize;
            if (tx_header_digest_) {
                put_digest(scratch.header.data() + kBhsSize, crc32c(bhs.data(), kBhsSize));
                header_size += 4;
            }
            const auto payload = data.subspan(next.offset, next.length);
            const std::size_t pad = padded_length(next.length) - next.length;
            std::fill_n(scratch.trailer.begin(), pad, 0);
            std::size_t trailer = pad;
            if (tx_data_digest_) {
                put_digest(scratch.trailer.data() + pad, crc32c(kPadding.data(), pad, crc32c(payload)));
                trailer += 4;
            }
            tx_buffers_.push_back(asio::buffer(scratch.header.data(), header_size));
            tx_buffers_.push_back(asio::buffer(payload.data(), payload.size()));
            if (trailer > 0) tx_buffers_.push_back(asio::buffer(scratch.trailer.data(), trailer));
            data_sn = next.data_sn + 1;
        }
        auto [ec, n] = co_await asio::async_write(socket_, tx_buffers_, kNoThrow);
        if (ec) co_return false;
    }
    bytes_read_.fetch_add(outcome.sent_length, std::memory_order_relaxed);
    context_.stats.bytes_read.fetch_add(outcome.sent_length, std::memory_order_relaxed);
    if (outcome.status_in_data) co_return true;

    Outgoing& entry = ring_[ring_head_];
    build_status(slot, entry, outcome, data_sn);
    tx_buffers_.clear();
    append_pdu(entry, tx_scratch_.front());
    auto [ec, n] = co_await asio::async_write(socket_, tx_buffers_, kNoThrow);
    co_return !ec;
}

}  // namespace bootherd::iscsi
