#pragma once
// iSCSI PDU layout (RFC 7143 §11): the 48-byte Basic Header Segment, typed views of every initiator PDU and
// builders for every target PDU. parse_request() is the only place that interprets untrusted BHS bytes.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>

namespace bootherd::iscsi {

inline constexpr std::size_t kBhsSize = 48;
inline constexpr std::size_t kMaxAhsSize = 255 * 4;
inline constexpr std::uint32_t kReservedTag = 0xffffffff;
using Bhs = std::array<std::uint8_t, kBhsSize>;

enum class Opcode : std::uint8_t {
    nop_out = 0x00,
    scsi_command = 0x01,
    task_management_request = 0x02,
    login_request = 0x03,
    text_request = 0x04,
    data_out = 0x05,
    logout_request = 0x06,
    snack_request = 0x10,
    nop_in = 0x20,
    scsi_response = 0x21,
    task_management_response = 0x22,
    login_response = 0x23,
    text_response = 0x24,
    data_in = 0x25,
    logout_response = 0x26,
    r2t = 0x31,
    async_message = 0x32,
    reject = 0x3f,
};

enum class RejectReason : std::uint8_t {
    data_digest_error = 0x02,
    snack_reject = 0x03,
    protocol_error = 0x04,
    command_not_supported = 0x05,
    immediate_command_reject = 0x06,
    task_in_progress = 0x07,
    invalid_data_ack = 0x08,
    invalid_pdu_field = 0x09,
    long_operation_reject = 0x0a,
    waiting_for_logout = 0x0c,
};

// Fields present in every BHS.
struct CommonHeader {
    Opcode opcode{};
    bool immediate = false;
    std::uint8_t total_ahs_words = 0;
    std::uint32_t data_segment_length = 0;
    std::uint32_t initiator_task_tag = 0;
};
CommonHeader parse_common(const Bhs& bhs) noexcept;

// ---- initiator -> target ----
struct ScsiCommand {
    bool immediate = false;
    bool final_bit = true;
    bool read = false;
    bool write = false;
    std::uint8_t attribute = 0;
    std::array<std::uint8_t, 8> lun{};
    std::uint32_t initiator_task_tag = 0;
    std::uint32_t expected_data_transfer_length = 0;
    std::uint32_t cmd_sn = 0;
    std::uint32_t exp_stat_sn = 0;
    std::array<std::uint8_t, 16> cdb{};
    std::span<const std::uint8_t> extended_cdb;  // from an extended-CDB AHS (bytes beyond the first 16)
};
struct DataOut {
    bool final_bit = false;
    std::array<std::uint8_t, 8> lun{};
    std::uint32_t initiator_task_tag = 0;
    std::uint32_t target_transfer_tag = kReservedTag;
    std::uint32_t exp_stat_sn = 0;
    std::uint32_t data_sn = 0;
    std::uint32_t buffer_offset = 0;
};
struct NopOut {
    bool immediate = false;
    std::array<std::uint8_t, 8> lun{};
    std::uint32_t initiator_task_tag = kReservedTag;
    std::uint32_t target_transfer_tag = kReservedTag;
    std::uint32_t cmd_sn = 0;
    std::uint32_t exp_stat_sn = 0;
};
enum class TmfFunction : std::uint8_t {
    abort_task = 1,
    abort_task_set = 2,
    clear_aca = 3,
    clear_task_set = 4,
    logical_unit_reset = 5,
    target_warm_reset = 6,
    target_cold_reset = 7,
    task_reassign = 8,
};
struct TaskManagementRequest {
    bool immediate = false;
    std::uint8_t function = 0;  // raw: unknown values are answered "function not supported"
    std::array<std::uint8_t, 8> lun{};
    std::uint32_t initiator_task_tag = 0;
    std::uint32_t referenced_task_tag = kReservedTag;
    std::uint32_t cmd_sn = 0;
    std::uint32_t exp_stat_sn = 0;
    std::uint32_t ref_cmd_sn = 0;
};
struct LoginRequest {
    bool transit = false;
    bool continue_bit = false;
    std::uint8_t current_stage = 0;
    std::uint8_t next_stage = 0;
    std::uint8_t version_max = 0;
    std::uint8_t version_min = 0;
    std::uint64_t isid = 0;  // 48 bits
    std::uint16_t tsih = 0;
    std::uint32_t initiator_task_tag = 0;
    std::uint16_t cid = 0;
    std::uint32_t cmd_sn = 0;
    std::uint32_t exp_stat_sn = 0;
};
struct TextRequest {
    bool immediate = false;
    bool final_bit = true;
    bool continue_bit = false;
    std::uint32_t initiator_task_tag = 0;
    std::uint32_t target_transfer_tag = kReservedTag;
    std::uint32_t cmd_sn = 0;
    std::uint32_t exp_stat_sn = 0;
};
struct LogoutRequest {
    bool immediate = false;
    std::uint8_t reason = 0;  // 0 close session, 1 close connection, 2 remove connection for recovery
    std::uint32_t initiator_task_tag = 0;
    std::uint16_t cid = 0;
    std::uint32_t cmd_sn = 0;
    std::uint32_t exp_stat_sn = 0;
};
struct SnackRequest {
    std::uint8_t type = 0;
    std::uint32_t initiator_task_tag = 0;
};

// A PDU the initiator may send whose opcode we do not know (answered with Reject "command not supported").
struct UnknownOpcode {
    std::uint8_t opcode = 0;
};

using Request = std::variant<ScsiCommand, DataOut, NopOut, TaskManagementRequest, LoginRequest, TextRequest,
                             LogoutRequest, SnackRequest, UnknownOpcode>;

enum class ParseError { none, target_opcode, bad_ahs, bad_field };

struct ParseResult {
    Request request;
    ParseError error = ParseError::none;
};

// Parses an initiator PDU header. `ahs` must hold exactly total_ahs_words*4 bytes following the BHS.
// Spans inside the result (extended CDB) point into `ahs`.
ParseResult parse_request(const Bhs& bhs, std::span<const std::uint8_t> ahs) noexcept;

// ---- target -> initiator ----
// Sequence numbers every target PDU carries where the layout has them.
struct SequenceNumbers {
    std::uint32_t stat_sn = 0;
    std::uint32_t exp_cmd_sn = 0;
    std::uint32_t max_cmd_sn = 0;
};

struct ScsiResponse {
    std::uint32_t initiator_task_tag = 0;
    std::uint8_t status = 0;
    std::uint8_t response = 0;  // 0: command completed at target
    bool overflow = false;
    bool underflow = false;
    std::uint32_t residual_count = 0;
    std::uint32_t exp_data_sn = 0;
    std::uint32_t data_segment_length = 0;
};
struct DataIn {
    bool final_bit = false;
    bool status_present = false;
    bool overflow = false;
    bool underflow = false;
    std::uint8_t status = 0;
    std::array<std::uint8_t, 8> lun{};
    std::uint32_t initiator_task_tag = 0;
    std::uint32_t data_sn = 0;
    std::uint32_t buffer_offset = 0;
    std::uint32_t residual_count = 0;
    std::uint32_t data_segment_length = 0;
};
struct ReadyToTransfer {
    std::array<std::uint8_t, 8> lun{};
    std::uint32_t initiator_task_tag = 0;
    std::uint32_t target_transfer_tag = 0;
    std::uint32_t r2t_sn = 0;
    std::uint32_t buffer_offset = 0;
    std::uint32_t desired_length = 0;
};
struct NopIn {
    std::array<std::uint8_t, 8> lun{};
    std::uint32_t initiator_task_tag = kReservedTag;
    std::uint32_t target_transfer_tag = kReservedTag;
    std::uint32_t data_segment_length = 0;
};
enum class TmfResponse : std::uint8_t {
    complete = 0,
    task_does_not_exist = 1,
    lun_does_not_exist = 2,
    task_still_allegiant = 3,
    reassignment_not_supported = 4,
    function_not_supported = 5,
    authorization_failed = 6,
    rejected = 255,
};
struct TaskManagementResponse {
    std::uint32_t initiator_task_tag = 0;
    TmfResponse response = TmfResponse::complete;
};
struct LoginResponse {
    bool transit = false;
    bool continue_bit = false;
    std::uint8_t current_stage = 0;
    std::uint8_t next_stage = 0;
    std::uint64_t isid = 0;
    std::uint16_t tsih = 0;
    std::uint32_t initiator_task_tag = 0;
    std::uint8_t status_class = 0;
    std::uint8_t status_detail = 0;
    std::uint32_t data_segment_length = 0;
};
struct TextResponse {
    bool final_bit = true;
    bool continue_bit = false;
    std::uint32_t initiator_task_tag = 0;
    std::uint32_t target_transfer_tag = kReservedTag;
    std::uint32_t data_segment_length = 0;
};
struct LogoutResponse {
    std::uint32_t initiator_task_tag = 0;
    std::uint8_t response = 0;
    std::uint16_t time2wait = 0;
    std::uint16_t time2retain = 0;
};
struct RejectPdu {
    RejectReason reason = RejectReason::protocol_error;
    std::uint32_t data_segment_length = kBhsSize;  // the rejected BHS
};

void build(Bhs& out, const ScsiResponse& pdu, const SequenceNumbers& sn) noexcept;
void build(Bhs& out, const DataIn& pdu, const SequenceNumbers& sn) noexcept;
void build(Bhs& out, const ReadyToTransfer& pdu, const SequenceNumbers& sn) noexcept;
void build(Bhs& out, const NopIn& pdu, const SequenceNumbers& sn) noexcept;
void build(Bhs& out, const TaskManagementResponse& pdu, const SequenceNumbers& sn) noexcept;
void build(Bhs& out, const LoginResponse& pdu, const SequenceNumbers& sn) noexcept;
void build(Bhs& out, const TextResponse& pdu, const SequenceNumbers& sn) noexcept;
void build(Bhs& out, const LogoutResponse& pdu, const SequenceNumbers& sn) noexcept;
void build(Bhs& out, const RejectPdu& pdu, const SequenceNumbers& sn) noexcept;

// Rewrites the StatSN / ExpCmdSN / MaxCmdSN fields of an already built target PDU (sent later than built).
void set_sequence_numbers(Bhs& bhs, const SequenceNumbers& sn) noexcept;

// Encoders for initiator PDUs: used by tests, fuzz seeds and anything acting as an initiator.
void build(Bhs& out, const ScsiCommand& pdu, std::uint32_t data_segment_length) noexcept;
void build(Bhs& out, const DataOut& pdu, std::uint32_t data_segment_length) noexcept;
void build(Bhs& out, const NopOut& pdu, std::uint32_t data_segment_length) noexcept;
void build(Bhs& out, const TaskManagementRequest& pdu) noexcept;
void build(Bhs& out, const LoginRequest& pdu, std::uint32_t data_segment_length) noexcept;
void build(Bhs& out, const TextRequest& pdu, std::uint32_t data_segment_length) noexcept;
void build(Bhs& out, const LogoutRequest& pdu) noexcept;

inline constexpr std::uint32_t padded_length(std::uint32_t n) noexcept {
    return (n + 3u) & ~3u;
}

// The 8-byte LUN field <-> LUN number (SAM-5 single-level peripheral and flat addressing).
std::uint64_t decode_lun(const std::array<std::uint8_t, 8>& field) noexcept;
std::array<std::uint8_t, 8> encode_lun(std::uint64_t lun) noexcept;

}  // namespace bootherd::iscsi
