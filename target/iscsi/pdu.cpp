#include "target/iscsi/pdu.hpp"

#include <algorithm>

#include "common/bytes.hpp"

namespace bootherd::iscsi {
namespace {

constexpr std::uint8_t kImmediateBit = 0x40;
constexpr std::uint8_t kOpcodeMask = 0x3f;
constexpr std::uint8_t kFinalBit = 0x80;
constexpr std::uint8_t kContinueBit = 0x40;
constexpr std::uint8_t kAhsExtendedCdb = 1;

std::uint32_t u32(const Bhs& b, std::size_t at) noexcept {
    return load_be<std::uint32_t>(b.data() + at);
}
void put32(Bhs& b, std::size_t at, std::uint32_t v) noexcept {
    store_be(b.data() + at, v);
}
void put16(Bhs& b, std::size_t at, std::uint16_t v) noexcept {
    store_be(b.data() + at, v);
}

std::array<std::uint8_t, 8> lun_field(const Bhs& b) noexcept {
    std::array<std::uint8_t, 8> lun{};
    std::copy_n(b.begin() + 8, 8, lun.begin());
    return lun;
}
void put_lun(Bhs& b, const std::array<std::uint8_t, 8>& lun) noexcept {
    std::copy(lun.begin(), lun.end(), b.begin() + 8);
}

void start(Bhs& out, Opcode op, std::uint8_t flags, std::uint32_t data_segment_length,
           bool immediate = false) {
    out.fill(0);
    out[0] = static_cast<std::uint8_t>(static_cast<std::uint8_t>(op) | (immediate ? kImmediateBit : 0));
    out[1] = flags;
    store_be24(out.data() + 5, data_segment_length);
}

void put_isid(Bhs& b, std::uint64_t isid) noexcept {
    for (int i = 0; i < 6; ++i)
        b[8 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(isid >> (40 - 8 * i));
}

// Validates the AHS chain and picks out an extended CDB; only extended-CDB AHS are meaningful to us.
bool parse_ahs(std::span<const std::uint8_t> ahs, std::span<const std::uint8_t>& extended_cdb) noexcept {
    while (!ahs.empty()) {
        if (ahs.size() < 4) return false;
        const std::size_t length = load_be<std::uint16_t>(ahs.data());
        const std::uint8_t type = ahs[2];
        // Each AHS is padded to a multiple of 4 bytes; its length counts the bytes after the 3-byte header...
        // ...including the reserved byte for the extended CDB (RFC 7143 §11.2.2.3).
        const std::size_t total = (3 + length + 3) & ~std::size_t{3};
        if (length == 0 || total > ahs.size()) return false;
        if (type == kAhsExtendedCdb) {
            if (!extended_cdb.empty()) return false;
            extended_cdb = ahs.subspan(4, length - 1);
        }
        ahs = ahs.subspan(total);
    }
    return true;
}

}  // namespace

CommonHeader parse_common(const Bhs& bhs) noexcept {
    CommonHeader h;
    h.opcode = static_cast<Opcode>(bhs[0] & kOpcodeMask);
    h.immediate = (bhs[0] & kImmediateBit) != 0;
    h.total_ahs_words = bhs[4];
    h.data_segment_length = load_be24(bhs.data() + 5);
    h.initiator_task_tag = u32(bhs, 16);
    return h;
}

ParseResult parse_request(const Bhs& b, std::span<const std::uint8_t> ahs) noexcept {
    const CommonHeader common = parse_common(b);
    const bool final_bit = (b[1] & kFinalBit) != 0;
    ParseResult result{UnknownOpcode{static_cast<std::uint8_t>(common.opcode)}};
    std::span<const std::uint8_t> extended_cdb;
    if (ahs.size() != std::size_t{common.total_ahs_words} * 4 || !parse_ahs(ahs, extended_cdb)) {
        result.error = ParseError::bad_ahs;
        return result;
    }
    if (!extended_cdb.empty() && common.opcode != Opcode::scsi_command) {
        result.error = ParseError::bad_ahs;
        return result;
    }
    switch (common.opcode) {
        case Opcode::scsi_command: {
            ScsiCommand c;
            c.immediate = common.immediate;
            c.final_bit = final_bit;
            c.read = (b[1] & 0x40) != 0;
            c.write = (b[1] & 0x20) != 0;
            c.attribute = b[1] & 0x07;
            c.lun = lun_field(b);
            c.initiator_task_tag = common.initiator_task_tag;
            c.expected_data_transfer_length = u32(b, 20);
            c.cmd_sn = u32(b, 24);
            c.exp_stat_sn = u32(b, 28);
            std::copy_n(b.begin() + 32, 16, c.cdb.begin());
            c.extended_cdb = extended_cdb;
            result.request = c;
            // We do not support bidirectional commands, and a command without F must be followed by more
            // unsolicited data, which only writes have.
            if ((c.read && c.write) || (!c.final_bit && !c.write)) result.error = ParseError::bad_field;
            return result;
        }
        case Opcode::data_out: {
            DataOut d;
            d.final_bit = final_bit;
            d.lun = lun_field(b);
            d.initiator_task_tag = common.initiator_task_tag;
            d.target_transfer_tag = u32(b, 20);
            d.exp_stat_sn = u32(b, 28);
            d.data_sn = u32(b, 36);
            d.buffer_offset = u32(b, 40);
            result.request = d;
            return result;
        }
        case Opcode::nop_out: {
            NopOut n;
            n.immediate = common.immediate;
            n.lun = lun_field(b);
            n.initiator_task_tag = common.initiator_task_tag;
            n.target_transfer_tag = u32(b, 20);
            n.cmd_sn = u32(b, 24);
            n.exp_stat_sn = u32(b, 28);
            result.request = n;
            // A NOP-Out that is not a ping (ITT reserved) must be immediate and carries no data (RFC 7143
            // §11.18).
            if (!final_bit || (n.initiator_task_tag == kReservedTag && !n.immediate))
                result.error = ParseError::bad_field;
            return result;
        }
        case Opcode::task_management_request: {
            TaskManagementRequest t;
            t.immediate = common.immediate;
            t.function = b[1] & 0x7f;
            t.lun = lun_field(b);
            t.initiator_task_tag = common.initiator_task_tag;
            t.referenced_task_tag = u32(b, 20);
            t.cmd_sn = u32(b, 24);
            t.exp_stat_sn = u32(b, 28);
            t.ref_cmd_sn = u32(b, 32);
            result.request = t;
            if (!final_bit || common.data_segment_length != 0) result.error = ParseError::bad_field;
            return result;
        }
        case Opcode::login_request: {
            LoginRequest l;
            l.transit = final_bit;
            l.continue_bit = (b[1] & kContinueBit) != 0;
            l.current_stage = (b[1] >> 2) & 0x03;
            l.next_stage = b[1] & 0x03;
            l.version_max = b[2];
            l.version_min = b[3];
            for (std::size_t i = 0; i < 6; ++i)
                l.isid = (l.isid << 8) | b[8 + i];
            l.tsih = load_be<std::uint16_t>(b.data() + 14);
            l.initiator_task_tag = common.initiator_task_tag;
            l.cid = load_be<std::uint16_t>(b.data() + 20);
            l.cmd_sn = u32(b, 24);
            l.exp_stat_sn = u32(b, 28);
            result.request = l;
            if (l.transit && l.continue_bit) result.error = ParseError::bad_field;
            return result;
        }
        case Opcode::text_request: {
            TextRequest t;
            t.immediate = common.immediate;
            t.final_bit = final_bit;
            t.continue_bit = (b[1] & kContinueBit) != 0;
            t.initiator_task_tag = common.initiator_task_tag;
            t.target_transfer_tag = u32(b, 20);
            t.cmd_sn = u32(b, 24);
            t.exp_stat_sn = u32(b, 28);
            result.request = t;
            if (t.final_bit && t.continue_bit) result.error = ParseError::bad_field;
            return result;
        }
        case Opcode::logout_request: {
            LogoutRequest l;
            l.immediate = common.immediate;
            l.reason = b[1] & 0x7f;
            l.initiator_task_tag = common.initiator_task_tag;
            l.cid = load_be<std::uint16_t>(b.data() + 20);
            l.cmd_sn = u32(b, 24);
            l.exp_stat_sn = u32(b, 28);
            result.request = l;
            if (!final_bit || l.reason > 2 || common.data_segment_length != 0)
                result.error = ParseError::bad_field;
            return result;
        }
        case Opcode::snack_request:
            result.request = SnackRequest{static_cast<std::uint8_t>(b[1] & 0x0f), common.initiator_task_tag};
            return result;
        case Opcode::nop_in:
        case Opcode::scsi_response:
        case Opcode::task_management_response:
        case Opcode::login_response:
        case Opcode::text_response:
        case Opcode::data_in:
        case Opcode::logout_response:
        case Opcode::r2t:
        case Opcode::async_message:
        case Opcode::reject:
            result.error = ParseError::target_opcode;
            return result;
    }
    return result;  // UnknownOpcode
}

void set_sequence_numbers(Bhs& b, const SequenceNumbers& sn) noexcept {
    put32(b, 24, sn.stat_sn);
    put32(b, 28, sn.exp_cmd_sn);
    put32(b, 32, sn.max_cmd_sn);
}

void build(Bhs& out, const ScsiResponse& p, const SequenceNumbers& sn) noexcept {
    start(out, Opcode::scsi_response,
          static_cast<std::uint8_t>(kFinalBit | (p.overflow ? 0x04 : 0) | (p.underflow ? 0x02 : 0)),
          p.data_segment_length);
    out[2] = p.response;
    out[3] = p.status;
    put32(out, 16, p.initiator_task_tag);
    set_sequence_numbers(out, sn);
    put32(out, 36, p.exp_data_sn);
    put32(out, 44, p.residual_count);
}

void build(Bhs& out, const DataIn& p, const SequenceNumbers& sn) noexcept {
    std::uint8_t flags = p.final_bit ? kFinalBit : 0;
    if (p.status_present)
        flags = static_cast<std::uint8_t>(flags | 0x01 | (p.overflow ? 0x04 : 0) | (p.underflow ? 0x02 : 0));
    start(out, Opcode::data_in, flags, p.data_segment_length);
    if (p.status_present) out[3] = p.status;
    put_lun(out, p.lun);
    put32(out, 16, p.initiator_task_tag);
    put32(out, 20, kReservedTag);
    set_sequence_numbers(out, sn);
    if (!p.status_present) put32(out, 24, 0);
    put32(out, 36, p.data_sn);
    put32(out, 40, p.buffer_offset);
    if (p.status_present) put32(out, 44, p.residual_count);
}

void build(Bhs& out, const ReadyToTransfer& p, const SequenceNumbers& sn) noexcept {
    start(out, Opcode::r2t, kFinalBit, 0);
    put_lun(out, p.lun);
    put32(out, 16, p.initiator_task_tag);
    put32(out, 20, p.target_transfer_tag);
    set_sequence_numbers(out, sn);
    put32(out, 36, p.r2t_sn);
    put32(out, 40, p.buffer_offset);
    put32(out, 44, p.desired_length);
}

void build(Bhs& out, const NopIn& p, const SequenceNumbers& sn) noexcept {
    start(out, Opcode::nop_in, kFinalBit, p.data_segment_length);
    put_lun(out, p.lun);
    put32(out, 16, p.initiator_task_tag);
    put32(out, 20, p.target_transfer_tag);
    set_sequence_numbers(out, sn);
}

void build(Bhs& out, const TaskManagementResponse& p, const SequenceNumbers& sn) noexcept {
    start(out, Opcode::task_management_response, kFinalBit, 0);
    out[2] = static_cast<std::uint8_t>(p.response);
    put32(out, 16, p.initiator_task_tag);
    set_sequence_numbers(out, sn);
}

void build(Bhs& out, const LoginResponse& p, const SequenceNumbers& sn) noexcept {
    start(out, Opcode::login_response,
          static_cast<std::uint8_t>((p.transit ? kFinalBit : 0) | (p.continue_bit ? kContinueBit : 0) |
                                    ((p.current_stage & 3) << 2) | (p.next_stage & 3)),
          p.data_segment_length);
    out[2] = 0;  // VersionMax
    out[3] = 0;  // VersionActive
    put_isid(out, p.isid);
    put16(out, 14, p.tsih);
    put32(out, 16, p.initiator_task_tag);
    set_sequence_numbers(out, sn);
    out[36] = p.status_class;
    out[37] = p.status_detail;
}

void build(Bhs& out, const TextResponse& p, const SequenceNumbers& sn) noexcept {
    start(out, Opcode::text_response,
          static_cast<std::uint8_t>((p.final_bit ? kFinalBit : 0) | (p.continue_bit ? kContinueBit : 0)),
          p.data_segment_length);
    put32(out, 16, p.initiator_task_tag);
    put32(out, 20, p.target_transfer_tag);
    set_sequence_numbers(out, sn);
}

void build(Bhs& out, const LogoutResponse& p, const SequenceNumbers& sn) noexcept {
    start(out, Opcode::logout_response, kFinalBit, 0);
    out[2] = p.response;
    put32(out, 16, p.initiator_task_tag);
    set_sequence_numbers(out, sn);
    put16(out, 40, p.time2wait);
    put16(out, 42, p.time2retain);
}

void build(Bhs& out, const RejectPdu& p, const SequenceNumbers& sn) noexcept {
    start(out, Opcode::reject, kFinalBit, p.data_segment_length);
    out[2] = static_cast<std::uint8_t>(p.reason);
    put32(out, 16, kReservedTag);
    set_sequence_numbers(out, sn);
}

void build(Bhs& out, const ScsiCommand& p, std::uint32_t dsl) noexcept {
    start(out, Opcode::scsi_command,
          static_cast<std::uint8_t>((p.final_bit ? kFinalBit : 0) | (p.read ? 0x40 : 0) |
                                    (p.write ? 0x20 : 0) | (p.attribute & 7)),
          dsl, p.immediate);
    put_lun(out, p.lun);
    put32(out, 16, p.initiator_task_tag);
    put32(out, 20, p.expected_data_transfer_length);
    put32(out, 24, p.cmd_sn);
    put32(out, 28, p.exp_stat_sn);
    std::copy(p.cdb.begin(), p.cdb.end(), out.begin() + 32);
}

void build(Bhs& out, const DataOut& p, std::uint32_t dsl) noexcept {
    start(out, Opcode::data_out, p.final_bit ? kFinalBit : 0, dsl);
    put_lun(out, p.lun);
    put32(out, 16, p.initiator_task_tag);
    put32(out, 20, p.target_transfer_tag);
    put32(out, 28, p.exp_stat_sn);
    put32(out, 36, p.data_sn);
    put32(out, 40, p.buffer_offset);
}

void build(Bhs& out, const NopOut& p, std::uint32_t dsl) noexcept {
    start(out, Opcode::nop_out, kFinalBit, dsl, p.immediate);
    put_lun(out, p.lun);
    put32(out, 16, p.initiator_task_tag);
    put32(out, 20, p.target_transfer_tag);
    put32(out, 24, p.cmd_sn);
    put32(out, 28, p.exp_stat_sn);
}

void build(Bhs& out, const TaskManagementRequest& p) noexcept {
    start(out, Opcode::task_management_request, static_cast<std::uint8_t>(kFinalBit | (p.function & 0x7f)), 0,
          p.immediate);
    put_lun(out, p.lun);
    put32(out, 16, p.initiator_task_tag);
    put32(out, 20, p.referenced_task_tag);
    put32(out, 24, p.cmd_sn);
    put32(out, 28, p.exp_stat_sn);
    put32(out, 32, p.ref_cmd_sn);
}

void build(Bhs& out, const LoginRequest& p, std::uint32_t dsl) noexcept {
    start(out, Opcode::login_request,
          static_cast<std::uint8_t>((p.transit ? kFinalBit : 0) | (p.continue_bit ? kContinueBit : 0) |
                                    ((p.current_stage & 3) << 2) | (p.next_stage & 3)),
          dsl, true);
    out[2] = p.version_max;
    out[3] = p.version_min;
    put_isid(out, p.isid);
    put16(out, 14, p.tsih);
    put32(out, 16, p.initiator_task_tag);
    put16(out, 20, p.cid);
    put32(out, 24, p.cmd_sn);
    put32(out, 28, p.exp_stat_sn);
}

void build(Bhs& out, const TextRequest& p, std::uint32_t dsl) noexcept {
    start(out, Opcode::text_request,
          static_cast<std::uint8_t>((p.final_bit ? kFinalBit : 0) | (p.continue_bit ? kContinueBit : 0)), dsl,
          p.immediate);
    put32(out, 16, p.initiator_task_tag);
    put32(out, 20, p.target_transfer_tag);
    put32(out, 24, p.cmd_sn);
    put32(out, 28, p.exp_stat_sn);
}

void build(Bhs& out, const LogoutRequest& p) noexcept {
    start(out, Opcode::logout_request, static_cast<std::uint8_t>(kFinalBit | (p.reason & 0x7f)), 0,
          p.immediate);
    put32(out, 16, p.initiator_task_tag);
    put16(out, 20, p.cid);
    put32(out, 24, p.cmd_sn);
    put32(out, 28, p.exp_stat_sn);
}

std::uint64_t decode_lun(const std::array<std::uint8_t, 8>& f) noexcept {
    const std::uint8_t method = f[0] >> 6;
    if (method == 0) return f[1];                                       // peripheral device addressing
    if (method == 1) return (std::uint64_t{f[0] & 0x3fu} << 8) | f[1];  // flat space addressing
    return load_be<std::uint64_t>(f.data());                            // anything else: never a valid LUN
}

std::array<std::uint8_t, 8> encode_lun(std::uint64_t lun) noexcept {
    std::array<std::uint8_t, 8> f{};
    if (lun < 256) {
        f[1] = static_cast<std::uint8_t>(lun);
    } else {
        f[0] = static_cast<std::uint8_t>(0x40 | ((lun >> 8) & 0x3f));
        f[1] = static_cast<std::uint8_t>(lun & 0xff);
    }
    return f;
}

}  // namespace bootherd::iscsi
