#include "target/iscsi/negotiation.hpp"

#include <algorithm>
#include <charconv>

#include "target/iscsi/text.hpp"

namespace bootherd::iscsi {
namespace {

constexpr std::uint32_t kMax24 = (1u << 24) - 1;

// tgt's model: every operational key of RFC 7143 §13 with its rule, default, legal range and our value.
constexpr std::array<KeyDefinition, kKeyCount> kKeys{{
    {"HeaderDigest", Rule::digest_list, 0, 0, 1, 1, Scope::connection, false},
    {"DataDigest", Rule::digest_list, 0, 0, 1, 1, Scope::connection, false},
    {"MaxConnections", Rule::minimum, 1, 1, 65535, 1, Scope::session, true},
    {"InitialR2T", Rule::boolean_or, 1, 0, 1, 0, Scope::session, true},
    {"ImmediateData", Rule::boolean_and, 1, 0, 1, 1, Scope::session, true},
    {"MaxRecvDataSegmentLength", Rule::declarative, kDefaultMaxRecvDataSegmentLength, 512, kMax24,
     kTargetMaxRecvDataSegmentLength, Scope::connection, false},
    {"MaxBurstLength", Rule::minimum, 262144, 512, kMax24, 1048576, Scope::session, true},
    {"FirstBurstLength", Rule::minimum, 65536, 512, kMax24, 262144, Scope::session, true},
    {"DefaultTime2Wait", Rule::maximum, 2, 0, 3600, 0, Scope::session, true},
    {"DefaultTime2Retain", Rule::minimum, 20, 0, 3600, 0, Scope::session, true},
    {"MaxOutstandingR2T", Rule::minimum, 1, 1, 65535, 8, Scope::session, true},
    {"DataPDUInOrder", Rule::boolean_or, 1, 0, 1, 1, Scope::session, true},
    {"DataSequenceInOrder", Rule::boolean_or, 1, 0, 1, 1, Scope::session, true},
    {"ErrorRecoveryLevel", Rule::minimum, 0, 0, 2, 0, Scope::session, false},
    {"OFMarker", Rule::obsolete, 0, 0, 1, 0, Scope::connection, false},
    {"IFMarker", Rule::obsolete, 0, 0, 1, 0, Scope::connection, false},
    {"OFMarkInt", Rule::obsolete, 2048, 1, 65535, 0, Scope::connection, false},
    {"IFMarkInt", Rule::obsolete, 2048, 1, 65535, 0, Scope::connection, false},
    {"iSCSIProtocolLevel", Rule::minimum, 0, 0, 31, 1, Scope::session, false},
}};

bool parse_boolean(std::string_view v, std::uint32_t& out) {
    if (v == "Yes") {
        out = 1;
        return true;
    }
    if (v == "No") {
        out = 0;
        return true;
    }
    return false;
}

std::string_view boolean_text(std::uint32_t v) {
    return v != 0 ? "Yes" : "No";
}

std::string number_text(std::uint32_t v) {
    std::array<char, 16> buffer{};
    const auto r = std::to_chars(buffer.data(), buffer.data() + buffer.size(), v);
    return std::string(buffer.data(), r.ptr);
}

}  // namespace

const std::array<KeyDefinition, kKeyCount>& key_table() {
    return kKeys;
}

bool parse_number(std::string_view text, std::uint64_t& out) {
    int base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text.remove_prefix(2);
        base = 16;
    }
    if (text.empty() || text.size() > 20) return false;
    const auto r = std::from_chars(text.data(), text.data() + text.size(), out, base);
    return r.ec == std::errc{} && r.ptr == text.data() + text.size();
}

std::array<std::uint32_t, kKeyCount> Negotiator::defaults() {
    std::array<std::uint32_t, kKeyCount> v{};
    for (std::size_t i = 0; i < kKeyCount; ++i)
        v[i] = kKeys[i].default_value;
    return v;
}

OfferResult Negotiator::offer(std::string_view key, std::string_view value, std::string& response) {
    const auto it =
        std::find_if(kKeys.begin(), kKeys.end(), [&](const KeyDefinition& d) { return d.name == key; });
    if (it == kKeys.end()) return OfferResult::not_operational;
    const auto index = static_cast<std::size_t>(it - kKeys.begin());
    const KeyDefinition& def = *it;
    if (seen_[index]) return OfferResult::duplicate;
    seen_[index] = true;

    if (discovery_ && def.normal_session_only) {
        append_pair(response, key, "Irrelevant");
        return OfferResult::answered;
    }
    switch (def.rule) {
        case Rule::declarative: {
            std::uint64_t n = 0;
            if (!parse_number(value, n) || n < def.min || n > def.max) {
                append_pair(response, key, "Reject");
            } else {
                values_[index] = static_cast<std::uint32_t>(n);
            }
            return OfferResult::answered;
        }
        case Rule::minimum:
        case Rule::maximum: {
            std::uint64_t n = 0;
            if (!parse_number(value, n) || n < def.min || n > def.max) {
                append_pair(response, key, "Reject");
                return OfferResult::answered;
            }
            const auto offered = static_cast<std::uint32_t>(n);
            values_[index] = def.rule == Rule::minimum ? std::min(offered, def.target_value)
                                                       : std::max(offered, def.target_value);
            append_pair(response, key, number_text(values_[index]));
            return OfferResult::answered;
        }
        case Rule::boolean_and:
        case Rule::boolean_or: {
            std::uint32_t b = 0;
            if (!parse_boolean(value, b)) {
                append_pair(response, key, "Reject");
                return OfferResult::answered;
            }
            values_[index] = def.rule == Rule::boolean_and ? (b & def.target_value) : (b | def.target_value);
            append_pair(response, key, boolean_text(values_[index]));
            return OfferResult::answered;
        }
        case Rule::digest_list: {
            // Discovery sessions carry only text: digests stay None there.
            std::string_view list = value;
            while (!list.empty()) {
                const std::size_t comma = list.find(',');
                const std::string_view item = list.substr(0, comma);
                list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
                if (item == "None") {
                    values_[index] = 0;
                    append_pair(response, key, item);
                    return OfferResult::answered;
                }
                if (item == "CRC32C" && !discovery_) {
                    values_[index] = 1;
                    append_pair(response, key, item);
                    return OfferResult::answered;
                }
            }
            append_pair(response, key, "Reject");
            return OfferResult::answered;
        }
        case Rule::obsolete:
            append_pair(response, key, def.max == 1 ? "No" : "Reject");
            return OfferResult::answered;
    }
    return OfferResult::answered;
}

void Negotiator::declare(std::string& response) {
    if (declared_) return;
    declared_ = true;
    append_pair(response, "MaxRecvDataSegmentLength", number_text(kTargetMaxRecvDataSegmentLength));
}

SessionParams Negotiator::params() const {
    const auto v = [&](KeyId id) { return values_[static_cast<std::size_t>(id)]; };
    SessionParams p;
    p.header_digest = v(KeyId::header_digest) != 0;
    p.data_digest = v(KeyId::data_digest) != 0;
    p.initiator_max_recv_data_segment_length = v(KeyId::max_recv_data_segment_length);
    p.target_max_recv_data_segment_length =
        declared_ ? kTargetMaxRecvDataSegmentLength : kDefaultMaxRecvDataSegmentLength;
    p.max_burst_length = v(KeyId::max_burst_length);
    // FirstBurstLength must not exceed MaxBurstLength (RFC 7143 §13.14).
    p.first_burst_length = std::min(v(KeyId::first_burst_length), p.max_burst_length);
    p.initial_r2t = v(KeyId::initial_r2t) != 0;
    p.immediate_data = v(KeyId::immediate_data) != 0;
    p.max_outstanding_r2t = v(KeyId::max_outstanding_r2t);
    p.default_time2wait = v(KeyId::default_time2wait);
    p.default_time2retain = v(KeyId::default_time2retain);
    return p;
}

}  // namespace bootherd::iscsi
