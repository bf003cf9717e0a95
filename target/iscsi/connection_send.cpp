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
        Outgoing& entry = ring_[ring_head_];
        const bool ok = entry.kind == Outgoing::Kind::task ? co_await send_task(*entry.slot)
                                                           : co_await send_control(entry);
        if (phase_ == Phase::closed) break;
        if (!ok) {
            close_on_strand("send failed");
            break;
        }
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
        if (reader_waiting_) reader_wake_.cancel();
    }
}

awaitable<bool> Connection::send_control(Outgoing& entry) {
    if (entry.numbers != Outgoing::Numbers::as_built) {
        SequenceNumbers sn = session_->numbers(entry.numbers == Outgoing::Numbers::advance);
        set_sequence_numbers(entry.bhs, sn);
    }
    PduScratch& scratch = tx_scratch_.front();
    std::copy(entry.bhs.begin(), entry.bhs.end(), scratch.header.begin());
    std::size_t header_size = kBhsSize;
    if (tx_header_digest_) {
        put_digest(scratch.header.data() + kBhsSize, crc32c(entry.bhs.data(), kBhsSize));
        header_size += 4;
    }
    const auto length = static_cast<std::uint32_t>(entry.data.size());
    const std::size_t pad = padded_length(length) - length;
    std::size_t trailer = pad;
    if (tx_data_digest_ && length > 0) {
        const std::uint32_t crc = crc32c(kPadding.data(), pad, crc32c(entry.data.data(), length));
        std::fill_n(scratch.trailer.begin(), pad, 0);
        put_digest(scratch.trailer.data() + pad, crc);
        trailer += 4;
    } else {
        std::fill_n(scratch.trailer.begin(), pad, 0);
    }
    const std::array<asio::const_buffer, 3> buffers{asio::buffer(scratch.header.data(), header_size),
                                                    asio::buffer(entry.data),
                                                    asio::buffer(scratch.trailer.data(), trailer)};
    auto [ec, n] = co_await asio::async_write(socket_, buffers, kNoThrow);
    co_return !ec;
}

awaitable<bool> Connection::send_task(TaskSlot& slot) {
    const scsi::Task& task = slot.task;
    const SessionParams& params = session_->params();
    const std::uint32_t expected = task.expected_length;
    std::uint32_t sent_length = 0;
    bool overflow = false;
    bool underflow = false;
    std::uint32_t residual = 0;
    if (task.read_flag) {
        const std::uint32_t produced = task.data_in_length;
        sent_length = std::min(produced, expected);
        overflow = produced > expected;
        underflow = produced < expected;
        residual = overflow ? produced - expected : expected - produced;
    } else if (task.write_flag && task.cdb_data_out_length) {
        const std::uint32_t wanted = *task.cdb_data_out_length;
        overflow = wanted > expected;
        underflow = wanted < expected;
        residual = overflow ? wanted - expected : expected - wanted;
    } else if (task.write_flag && task.data_out_length < expected) {
        underflow = true;
        residual = expected - task.data_out_length;
    }
    const bool has_sense = task.sense_length > 0;
    // Status rides in the last Data-In when there is no sense data to send (RFC 7143 §11.7.4).
    const bool status_in_data = sent_length > 0 && !has_sense;
    const auto data = task.data_in_view().first(sent_length);

    DataInSplitter splitter(sent_length, params.initiator_max_recv_data_segment_length,
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
            pdu.status_present = next.last && status_in_data;
            if (pdu.status_present) {
                pdu.status = static_cast<std::uint8_t>(task.status);
                pdu.overflow = overflow;
                pdu.underflow = underflow;
                pdu.residual_count = residual;
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
    bytes_read_.fetch_add(sent_length, std::memory_order_relaxed);
    if (status_in_data) co_return true;

    // A separate SCSI Response, with sense data when there is any.
    const std::size_t sense_length = std::min(task.sense_length, task.sense.size());
    std::uint32_t segment = 0;
    if (has_sense) {
        store_be(slot.sense_segment.data(), static_cast<std::uint16_t>(sense_length));
        std::copy_n(task.sense.begin(), sense_length, slot.sense_segment.begin() + 2);
        segment = static_cast<std::uint32_t>(2 + sense_length);
    }
    ScsiResponse response;
    response.initiator_task_tag = slot.initiator_task_tag;
    response.status = static_cast<std::uint8_t>(task.status);
    response.overflow = overflow;
    response.underflow = underflow;
    response.residual_count = residual;
    response.exp_data_sn = data_sn;
    response.data_segment_length = segment;
    Outgoing& entry = ring_[ring_head_];
    build(entry.bhs, response, session_->numbers(true));
    entry.data.assign(slot.sense_segment.begin(), slot.sense_segment.begin() + segment);
    entry.numbers = Outgoing::Numbers::as_built;
    co_return co_await send_control(entry);
}

}  // namespace bootherd::iscsi
