#pragma once
// Operational parameter negotiation (RFC 7143 §6.2, §13), driven by one table of keys with their rule.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace bootherd::iscsi {

enum class Rule {
    declarative,  // each side states its own value; no answer (MaxRecvDataSegmentLength)
    minimum,      // result is the lower of offer and our value
    maximum,      // result is the higher of offer and our value
    boolean_and,  // result Yes only if both say Yes
    boolean_or,   // result Yes if either says Yes
    digest_list,  // pick the first offered value we support
    obsolete,     // RFC 7143 §13.26: markers (answer No) and marker intervals (answer Reject)
};
enum class Scope { connection, session };

struct KeyDefinition {
    std::string_view name;
    Rule rule;
    std::uint32_t default_value;  // booleans: 1 Yes, 0 No; digests: 0 None, 1 CRC32C
    std::uint32_t min;
    std::uint32_t max;
    std::uint32_t target_value;  // what this target prefers / supports
    Scope scope;
    bool normal_session_only;  // irrelevant in discovery sessions
};

enum class KeyId : std::size_t {
    header_digest,
    data_digest,
    max_connections,
    initial_r2t,
    immediate_data,
    max_recv_data_segment_length,
    max_burst_length,
    first_burst_length,
    default_time2wait,
    default_time2retain,
    max_outstanding_r2t,
    data_pdu_in_order,
    data_sequence_in_order,
    error_recovery_level,
    of_marker,
    if_marker,
    of_mark_int,
    if_mark_int,
    iscsi_protocol_level,
    count
};
inline constexpr std::size_t kKeyCount = static_cast<std::size_t>(KeyId::count);

const std::array<KeyDefinition, kKeyCount>& key_table();

// This target's declared MaxRecvDataSegmentLength: the largest data segment it accepts.
inline constexpr std::uint32_t kTargetMaxRecvDataSegmentLength = 262144;
// The value in force before anything was declared (RFC 7143 §13.12), and for every login PDU.
inline constexpr std::uint32_t kDefaultMaxRecvDataSegmentLength = 8192;

struct SessionParams {
    bool header_digest = false;
    bool data_digest = false;
    std::uint32_t initiator_max_recv_data_segment_length = kDefaultMaxRecvDataSegmentLength;  // our sends
    std::uint32_t target_max_recv_data_segment_length = kDefaultMaxRecvDataSegmentLength;     // our receives
    std::uint32_t max_burst_length = 262144;
    std::uint32_t first_burst_length = 65536;
    bool initial_r2t = true;
    bool immediate_data = true;
    std::uint32_t max_outstanding_r2t = 1;
    std::uint32_t default_time2wait = 2;
    std::uint32_t default_time2retain = 20;
};

enum class OfferResult {
    answered,         // a response was appended
    not_operational,  // not a key of the table: the caller handles it (or answers NotUnderstood)
    duplicate,        // the key was already negotiated in this login: a protocol error
};

class Negotiator {
  public:
    explicit Negotiator(bool discovery) : discovery_(discovery) { values_ = defaults(); }

    // Answers one key offered by the initiator, appending "key=answer\0" to `response` when an answer is due.
    OfferResult offer(std::string_view key, std::string_view value, std::string& response);

    // Declarations this target makes on its own, once, in the operational stage (our
    // MaxRecvDataSegmentLength).
    void declare(std::string& response);

    SessionParams params() const;

  private:
    static std::array<std::uint32_t, kKeyCount> defaults();

    bool discovery_;
    bool declared_ = false;
    std::array<std::uint32_t, kKeyCount> values_{};
    std::array<bool, kKeyCount> seen_{};
};

// Parses a numeric key value: decimal, or hex with a 0x prefix. Fails on anything else or overflow.
bool parse_number(std::string_view text, std::uint64_t& out);

}  // namespace bootherd::iscsi
