#include <doctest/doctest.h>

#include <map>
#include <string>

#include "target/iscsi/negotiation.hpp"
#include "target/iscsi/text.hpp"

using namespace bootherd::iscsi;

namespace {
// Offers each pair and returns the answers as a map.
std::map<std::string, std::string> negotiate(Negotiator& n,
                                             const std::vector<std::pair<std::string, std::string>>& offer) {
    std::string response;
    for (const auto& [k, v] : offer)
        CHECK(n.offer(k, v, response) == OfferResult::answered);
    std::map<std::string, std::string> answers;
    for (const auto& kv :
         parse_text(std::span(reinterpret_cast<const std::uint8_t*>(response.data()), response.size())).pairs)
        answers[kv.key] = kv.value;
    return answers;
}
}  // namespace

TEST_CASE("iPXE's operational offer gets no Reject and digests None") {
    Negotiator n(false);
    const auto a = negotiate(n, {{"HeaderDigest", "None"},
                                 {"DataDigest", "None"},
                                 {"MaxConnections", "1"},
                                 {"InitialR2T", "Yes"},
                                 {"ImmediateData", "No"},
                                 {"MaxRecvDataSegmentLength", "8192"},
                                 {"MaxBurstLength", "262144"},
                                 {"FirstBurstLength", "65536"},
                                 {"DefaultTime2Wait", "0"},
                                 {"DefaultTime2Retain", "0"},
                                 {"MaxOutstandingR2T", "1"},
                                 {"DataPDUInOrder", "Yes"},
                                 {"DataSequenceInOrder", "Yes"},
                                 {"ErrorRecoveryLevel", "0"}});
    for (const auto& [k, v] : a)
        CHECK_MESSAGE(v != "Reject", k);
    CHECK(a.at("HeaderDigest") == "None");
    CHECK(a.at("DataDigest") == "None");
    CHECK(a.at("InitialR2T") == "Yes");
    CHECK(a.at("ImmediateData") == "No");
    CHECK(a.at("MaxBurstLength") == "262144");
    CHECK(a.count("MaxRecvDataSegmentLength") == 0);  // declarative: no answer
    const SessionParams p = n.params();
    CHECK_FALSE(p.header_digest);
    CHECK(p.initial_r2t);
    CHECK_FALSE(p.immediate_data);
    CHECK(p.initiator_max_recv_data_segment_length == 8192);
    CHECK(p.max_outstanding_r2t == 1);
    CHECK(p.default_time2wait == 0);
}

TEST_CASE("each rule computes its result") {
    Negotiator n(false);
    const auto a = negotiate(n, {{"MaxBurstLength", "16776192"},   // minimum: ours is lower
                                 {"FirstBurstLength", "4096"},     // minimum: theirs is lower
                                 {"DefaultTime2Wait", "5"},        // maximum
                                 {"DefaultTime2Retain", "60"},     // minimum against our 0
                                 {"InitialR2T", "No"},             // OR with our No
                                 {"ImmediateData", "Yes"},         // AND with our Yes
                                 {"DataPDUInOrder", "No"},         // OR with our Yes
                                 {"MaxOutstandingR2T", "0x20"},    // hex numbers accepted
                                 {"HeaderDigest", "CRC32C,None"},  // first supported in the list
                                 {"DataDigest", "Foo,None"}});
    CHECK(a.at("MaxBurstLength") == "1048576");
    CHECK(a.at("FirstBurstLength") == "4096");
    CHECK(a.at("DefaultTime2Wait") == "5");
    CHECK(a.at("DefaultTime2Retain") == "0");
    CHECK(a.at("InitialR2T") == "No");
    CHECK(a.at("ImmediateData") == "Yes");
    CHECK(a.at("DataPDUInOrder") == "Yes");
    CHECK(a.at("MaxOutstandingR2T") == "8");
    CHECK(a.at("HeaderDigest") == "CRC32C");
    CHECK(a.at("DataDigest") == "None");
    const SessionParams p = n.params();
    CHECK(p.header_digest);
    CHECK_FALSE(p.data_digest);
    CHECK_FALSE(p.initial_r2t);
    CHECK(p.first_burst_length == 4096);
}

TEST_CASE("invalid values are answered Reject, obsolete keys as RFC 7143 says") {
    Negotiator n(false);
    const auto a = negotiate(n, {{"MaxBurstLength", "100"},  // below 512
                                 {"MaxConnections", "many"},
                                 {"ImmediateData", "Maybe"},
                                 {"HeaderDigest", "MD5"},
                                 {"MaxRecvDataSegmentLength", "16777216"},
                                 {"OFMarker", "Yes"},
                                 {"IFMarkInt", "2048"}});
    CHECK(a.at("MaxBurstLength") == "Reject");
    CHECK(a.at("MaxConnections") == "Reject");
    CHECK(a.at("ImmediateData") == "Reject");
    CHECK(a.at("HeaderDigest") == "Reject");
    CHECK(a.at("MaxRecvDataSegmentLength") == "Reject");
    CHECK(a.at("OFMarker") == "No");
    CHECK(a.at("IFMarkInt") == "Reject");
    CHECK(n.params().max_burst_length == 262144);  // a rejected offer keeps the default
}

TEST_CASE("discovery sessions: session keys irrelevant, digests stay None") {
    Negotiator n(true);
    const auto a = negotiate(
        n, {{"HeaderDigest", "CRC32C,None"}, {"InitialR2T", "No"}, {"MaxRecvDataSegmentLength", "4096"}});
    CHECK(a.at("HeaderDigest") == "None");
    CHECK(a.at("InitialR2T") == "Irrelevant");
    CHECK(n.params().initiator_max_recv_data_segment_length == 4096);
    std::string response;
    CHECK(n.offer("DataDigest", "CRC32C", response) == OfferResult::answered);
    CHECK(response.find("DataDigest=Reject") != std::string::npos);
}

TEST_CASE("duplicates, unknown keys and our declaration") {
    Negotiator n(false);
    std::string response;
    CHECK(n.offer("X-com.example.Foo", "1", response) == OfferResult::not_operational);
    CHECK(n.offer("MaxBurstLength", "65536", response) == OfferResult::answered);
    CHECK(n.offer("MaxBurstLength", "65536", response) == OfferResult::duplicate);
    CHECK(n.params().target_max_recv_data_segment_length == kDefaultMaxRecvDataSegmentLength);
    std::string declared;
    n.declare(declared);
    n.declare(declared);  // once only
    CHECK(declared == std::string("MaxRecvDataSegmentLength=262144") + '\0');
    CHECK(n.params().target_max_recv_data_segment_length == kTargetMaxRecvDataSegmentLength);
    CHECK(n.params().first_burst_length == 65536);  // capped by MaxBurstLength
}

TEST_CASE("the key table covers RFC 7143 section 13 operational keys exactly once") {
    const auto& table = key_table();
    for (std::size_t i = 0; i < table.size(); ++i) {
        CHECK(table[i].default_value >= table[i].min);
        CHECK(table[i].default_value <= table[i].max);
        for (std::size_t j = i + 1; j < table.size(); ++j)
            CHECK(table[i].name != table[j].name);
    }
}
