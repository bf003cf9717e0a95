#include "target/iscsi/data_transfer.hpp"

#include <algorithm>

namespace bootherd::iscsi {

DataInSplitter::DataInSplitter(std::uint32_t total, std::uint32_t max_pdu, std::uint32_t max_burst)
    : total_(total),
      max_pdu_(std::max<std::uint32_t>(max_pdu, 512)),
      max_burst_(std::max<std::uint32_t>(max_burst, 512)) {}

DataInPdu DataInSplitter::next() {
    DataInPdu pdu;
    pdu.offset = offset_;
    pdu.length = std::min({max_pdu_, total_ - offset_, max_burst_ - burst_used_});
    pdu.data_sn = data_sn_++;
    offset_ += pdu.length;
    burst_used_ += pdu.length;
    pdu.last = offset_ >= total_;
    pdu.final_bit = pdu.last || burst_used_ == max_burst_;
    if (burst_used_ == max_burst_) burst_used_ = 0;
    return pdu;
}

void WriteTransfer::start(std::uint32_t total, std::uint32_t immediate, bool final_with_command,
                          const WriteParams& params) {
    total_ = total;
    received_ = std::min(immediate, total);
    unsolicited_next_ = received_;
    // Unsolicited Data-Out follows only when InitialR2T=No and the command did not carry the F bit.
    unsolicited_end_ =
        (!params.initial_r2t && !final_with_command) ? std::min(total, params.first_burst_length) : received_;
    unsolicited_end_ = std::max(unsolicited_end_, received_);
    unsolicited_data_sn_ = 0;
    next_r2t_offset_ = unsolicited_end_;
    r2t_sn_ = 0;
    max_burst_ = std::max<std::uint32_t>(params.max_burst_length, 512);
    max_outstanding_ = std::clamp<std::uint32_t>(params.max_outstanding_r2t, 1, kMaxOutstanding);
    active_ = 0;
    data_sn_error_ = false;
    outstanding_.fill({});
}

std::optional<R2tRequest> WriteTransfer::next_r2t() {
    if (next_r2t_offset_ >= total_ || active_ >= max_outstanding_) return std::nullopt;
    for (std::uint32_t slot = 0; slot < max_outstanding_; ++slot) {
        Outstanding& o = outstanding_[slot];
        if (o.active) continue;
        o = {true, next_r2t_offset_, std::min(max_burst_, total_ - next_r2t_offset_), 0, 0};
        next_r2t_offset_ += o.length;
        ++active_;
        return R2tRequest{r2t_sn_++, o.offset, o.length, slot};
    }
    return std::nullopt;
}

WriteTransfer::Result WriteTransfer::accept(std::uint32_t slot, std::uint32_t offset, std::uint32_t length,
                                            bool final_bit, std::uint32_t data_sn) {
    if (slot == kUnsolicited) {
        // DataPDUInOrder=Yes: each PDU continues exactly where the previous one ended.
        if (offset != unsolicited_next_ || length > unsolicited_end_ - unsolicited_next_)
            return Result::protocol_error;
        if (data_sn != unsolicited_data_sn_++) data_sn_error_ = true;
        unsolicited_next_ += length;
        received_ += length;
        const bool ends = unsolicited_next_ == unsolicited_end_;
        if (final_bit != ends) return Result::protocol_error;
        return Result::accepted;
    }
    if (slot >= max_outstanding_ || !outstanding_[slot].active) return Result::protocol_error;
    Outstanding& o = outstanding_[slot];
    if (offset != o.offset + o.received || length > o.length - o.received) return Result::protocol_error;
    if (data_sn != o.next_data_sn++) data_sn_error_ = true;
    o.received += length;
    received_ += length;
    const bool ends = o.received == o.length;
    if (final_bit != ends) return Result::protocol_error;
    if (ends) {
        o.active = false;
        --active_;
    }
    return Result::accepted;
}

}  // namespace bootherd::iscsi
