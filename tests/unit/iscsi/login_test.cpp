#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>

#include "fake_device.hpp"
#include "target/iscsi/login.hpp"

using namespace bootherd::iscsi;

namespace {

constexpr std::uint64_t kIsid = 0x400001370000ull;

struct Fixture {
    Fixture() {
        TargetNode open{"iqn.2026-01.test:open", std::make_shared<test::FakeDevice>(64), {}, {}, {}};
        TargetNode secured{"iqn.2026-01.test:chap",
                           std::make_shared<test::FakeDevice>(64),
                           {},
                           Credentials{"alice", "alicesecret1"},
                           {}};
        TargetNode mutual{"iqn.2026-01.test:mutual",
                          std::make_shared<test::FakeDevice>(64),
                          {},
                          Credentials{"alice", "alicesecret1"},
                          Credentials{"target", "targetsecret"}};
        TargetNode restricted{"iqn.2026-01.test:restricted",
                              std::make_shared<test::FakeDevice>(64),
                              {"iqn.2026-01.test:only"},
                              {},
                              {}};
        directory.add(open);
        directory.add(secured);
        directory.add(mutual);
        directory.add(restricted);
    }

    LoginMachine machine() {
        return LoginMachine(
            directory, 7, [] { return std::uint16_t{42}; },
            [] {
                chap::Challenge c;
                c.identifier = 0x2a;
                for (std::size_t i = 0; i < c.value.size(); ++i)
                    c.value[i] = static_cast<std::uint8_t>(i);
                return c;
            });
    }

    StaticTargetDirectory directory;
};

LoginRequest request(std::uint8_t csg, std::uint8_t nsg, bool transit) {
    LoginRequest r;
    r.current_stage = csg;
    r.next_stage = nsg;
    r.transit = transit;
    r.isid = kIsid;
    r.initiator_task_tag = 1;
    return r;
}

std::span<const std::uint8_t> bytes(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string text(std::initializer_list<std::pair<std::string, std::string>> pairs) {
    std::string out;
    for (const auto& [k, v] : pairs)
        append_pair(out, k, v);
    return out;
}

std::map<std::string, std::string> keys(const LoginReply& reply) {
    std::map<std::string, std::string> m;
    for (const auto& kv : parse_text(bytes(reply.text)).pairs)
        m[kv.key] = kv.value;
    return m;
}

}  // namespace

TEST_CASE("iPXE-style login: security None, then operational, then full feature") {
    Fixture f;
    LoginMachine m = f.machine();
    LoginReply r = m.handle(request(0, 1, true), bytes(text({{"InitiatorName", "iqn.2010-04.org.ipxe:pc1"},
                                                             {"TargetName", "iqn.2026-01.test:open"},
                                                             {"SessionType", "Normal"},
                                                             {"AuthMethod", "None"}})));
    CHECK(r.header.status_class == 0);
    CHECK(r.header.transit);
    CHECK(r.header.next_stage == 1);
    CHECK(keys(r).at("AuthMethod") == "None");
    CHECK(keys(r).at("TargetPortalGroupTag") == "7");
    CHECK(m.state() == LoginMachine::State::in_progress);

    r = m.handle(request(1, 3, true), bytes(text({{"HeaderDigest", "None"},
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
                                                  {"ErrorRecoveryLevel", "0"}})));
    CHECK(r.header.status_class == 0);
    CHECK(r.header.transit);
    CHECK(r.header.next_stage == 3);
    CHECK(r.header.tsih == 42);
    const auto k = keys(r);
    for (const auto& [key, value] : k)
        CHECK_MESSAGE(value != "Reject", key);
    CHECK(k.at("MaxRecvDataSegmentLength") == "262144");
    CHECK(m.state() == LoginMachine::State::complete);
    CHECK(m.initiator_name() == "iqn.2010-04.org.ipxe:pc1");
    CHECK(m.isid() == kIsid);
    CHECK(m.target()->iqn == "iqn.2026-01.test:open");
    CHECK_FALSE(m.params().header_digest);
    CHECK(m.params().target_max_recv_data_segment_length == 262144);
}

TEST_CASE("login failures carry the right status class and detail") {
    Fixture f;
    struct Case {
        std::string text;
        std::uint8_t detail;
    };
    const std::vector<Case> cases{
        {text({{"TargetName", "iqn.2026-01.test:open"}}), 0x07},                 // no InitiatorName
        {text({{"InitiatorName", "iqn.i"}}), 0x07},                              // no TargetName
        {text({{"InitiatorName", "iqn.i"}, {"TargetName", "iqn.nope"}}), 0x03},  // not found
        {text({{"InitiatorName", "iqn.i"}, {"TargetName", "iqn.2026-01.test:restricted"}}),
         0x02},  // forbidden
        {text({{"InitiatorName", "iqn.i"}, {"TargetName", "iqn.2026-01.test:chap"}, {"AuthMethod", "None"}}),
         0x01},                                                     // auth needed
        {std::string("InitiatorName=iqn.i\0Garbage\0", 28), 0x00},  // no '='
        {text({{"InitiatorName", "iqn.i"}, {"SessionType", "Weird"}}), 0x00},
    };
    for (const Case& c : cases) {
        LoginMachine m = f.machine();
        const LoginReply r = m.handle(request(0, 1, true), bytes(c.text));
        CHECK(r.header.status_class == 2);
        CHECK(r.header.status_detail == c.detail);
        CHECK(m.state() == LoginMachine::State::failed);
        CHECK_FALSE(m.failure_reason().empty());
    }
    LoginMachine m = f.machine();
    LoginRequest bad_version = request(0, 1, true);
    bad_version.version_min = 1;
    CHECK(m.handle(bad_version, {}).header.status_detail == 0x05);
    LoginMachine m2 = f.machine();
    LoginRequest existing = request(0, 1, true);
    existing.tsih = 5;
    CHECK(m2.handle(existing, {}).header.status_detail == 0x0a);
}

TEST_CASE("address ACL: a login from an address the node does not list fails with 02/02") {
    StaticTargetDirectory directory;
    TargetNode fenced{"iqn.2026-01.test:fenced", std::make_shared<test::FakeDevice>(64), {}, {}, {}};
    fenced.allowed_addresses.push_back(boost::asio::ip::make_address("192.0.2.10"));
    directory.add(std::move(fenced));
    const auto login_from = [&](const char* peer) {
        LoginMachine m(
            directory, 1, [] { return std::uint16_t{1}; }, chap::make_challenge,
            boost::asio::ip::make_address(peer));
        const LoginReply r =
            m.handle(request(0, 1, true), bytes(text({{"InitiatorName", "iqn.i"},
                                                      {"TargetName", "iqn.2026-01.test:fenced"},
                                                      {"AuthMethod", "None"}})));
        return std::pair{r.header.status_class, r.header.status_detail};
    };
    CHECK(login_from("192.0.2.10") == std::pair<std::uint8_t, std::uint8_t>{0, 0});
    CHECK(login_from("::ffff:192.0.2.10") == std::pair<std::uint8_t, std::uint8_t>{0, 0});
    CHECK(login_from("192.0.2.11") == std::pair<std::uint8_t, std::uint8_t>{2, 2});
    CHECK(login_from("::ffff:192.0.2.11") == std::pair<std::uint8_t, std::uint8_t>{2, 2});
}

TEST_CASE("one-way CHAP: the target checks the response and moves on") {
    Fixture f;
    LoginMachine m = f.machine();
    LoginReply r = m.handle(request(0, 1, true), bytes(text({{"InitiatorName", "iqn.i"},
                                                             {"TargetName", "iqn.2026-01.test:chap"},
                                                             {"AuthMethod", "CHAP,None"}})));
    CHECK(keys(r).at("AuthMethod") == "CHAP");
    CHECK_FALSE(r.header.transit);  // the CHAP exchange is still ahead
    r = m.handle(request(0, 1, true), bytes(text({{"CHAP_A", "7,5"}})));
    auto k = keys(r);
    CHECK(k.at("CHAP_A") == "5");
    CHECK(k.at("CHAP_I") == "42");
    CHECK(k.at("CHAP_C") == "0x000102030405060708090a0b0c0d0e0f");
    const auto digest = chap::response(42, "alicesecret1", *chap::decode_binary(k.at("CHAP_C")));
    r = m.handle(request(0, 1, true),
                 bytes(text({{"CHAP_N", "alice"}, {"CHAP_R", chap::encode_hex(digest)}})));
    CHECK(r.header.status_class == 0);
    CHECK(r.header.transit);
    CHECK(r.header.next_stage == 1);
    CHECK(m.state() == LoginMachine::State::in_progress);
}

TEST_CASE("CHAP with the wrong secret or user fails with 02/01") {
    Fixture f;
    for (const auto& [user, secret] : std::vector<std::pair<std::string, std::string>>{
             {"alice", "wrongsecret1"}, {"mallory", "alicesecret1"}}) {
        LoginMachine m = f.machine();
        m.handle(request(0, 1, false), bytes(text({{"InitiatorName", "iqn.i"},
                                                   {"TargetName", "iqn.2026-01.test:chap"},
                                                   {"AuthMethod", "CHAP"}})));
        const auto k = keys(m.handle(request(0, 1, false), bytes(text({{"CHAP_A", "5"}}))));
        const auto digest = chap::response(42, secret, *chap::decode_binary(k.at("CHAP_C")));
        const LoginReply r = m.handle(request(0, 1, true),
                                      bytes(text({{"CHAP_N", user}, {"CHAP_R", chap::encode_hex(digest)}})));
        CHECK(r.header.status_class == 2);
        CHECK(r.header.status_detail == 1);
    }
}

TEST_CASE("mutual CHAP: the target answers the initiator's challenge") {
    Fixture f;
    LoginMachine m = f.machine();
    m.handle(request(0, 1, false), bytes(text({{"InitiatorName", "iqn.i"},
                                               {"TargetName", "iqn.2026-01.test:mutual"},
                                               {"AuthMethod", "CHAP"}})));
    m.handle(request(0, 1, false), bytes(text({{"CHAP_A", "5"}})));
    const auto digest =
        chap::response(42, "alicesecret1",
                       std::array<std::uint8_t, 16>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
    const std::array<std::uint8_t, 16> mine{0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa,
                                            0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa};
    const LoginReply r = m.handle(request(0, 1, true), bytes(text({{"CHAP_N", "alice"},
                                                                   {"CHAP_R", chap::encode_hex(digest)},
                                                                   {"CHAP_I", "7"},
                                                                   {"CHAP_C", chap::encode_hex(mine)}})));
    CHECK(r.header.status_class == 0);
    CHECK(r.header.transit);
    const auto k = keys(r);
    CHECK(k.at("CHAP_N") == "target");
    // python3: hashlib.md5(bytes([7]) + b'targetsecret' + bytes([0xaa] * 16)).hexdigest()
    CHECK(k.at("CHAP_R") == "0xcd80a08b49be2b0fe16992c26f4c47f2");

    // A reflected challenge is refused.
    LoginMachine m2 = f.machine();
    m2.handle(request(0, 1, false), bytes(text({{"InitiatorName", "iqn.i"},
                                                {"TargetName", "iqn.2026-01.test:mutual"},
                                                {"AuthMethod", "CHAP"}})));
    const auto k2 = keys(m2.handle(request(0, 1, false), bytes(text({{"CHAP_A", "5"}}))));
    const LoginReply r2 = m2.handle(request(0, 1, true), bytes(text({{"CHAP_N", "alice"},
                                                                     {"CHAP_R", chap::encode_hex(digest)},
                                                                     {"CHAP_I", "7"},
                                                                     {"CHAP_C", k2.at("CHAP_C")}})));
    CHECK(r2.header.status_detail == 1);

    // Mutual configured but not requested by the initiator: refused.
    LoginMachine m3 = f.machine();
    m3.handle(request(0, 1, false), bytes(text({{"InitiatorName", "iqn.i"},
                                                {"TargetName", "iqn.2026-01.test:mutual"},
                                                {"AuthMethod", "CHAP"}})));
    m3.handle(request(0, 1, false), bytes(text({{"CHAP_A", "5"}})));
    CHECK(m3.handle(request(0, 1, true),
                    bytes(text({{"CHAP_N", "alice"}, {"CHAP_R", chap::encode_hex(digest)}})))
              .header.status_detail == 1);
}

TEST_CASE("login text may span PDUs (C bit); discovery needs no TargetName") {
    Fixture f;
    LoginMachine m = f.machine();
    const std::string all =
        text({{"InitiatorName", "iqn.i"}, {"SessionType", "Discovery"}, {"X-Vendor", "1"}});
    LoginRequest first = request(0, 3, false);
    first.continue_bit = true;
    const LoginReply r1 = m.handle(first, bytes(all.substr(0, 10)));  // splits inside a key
    CHECK(r1.text.empty());
    CHECK_FALSE(r1.header.transit);
    const LoginReply r2 = m.handle(request(0, 3, true), bytes(all.substr(10)));
    CHECK(r2.header.status_class == 0);
    CHECK(keys(r2).at("X-Vendor") == "NotUnderstood");
    CHECK(m.state() == LoginMachine::State::complete);
    CHECK(m.discovery());
}

TEST_CASE("stage rules: a key twice, skipping security with CHAP required, going backwards") {
    Fixture f;
    LoginMachine m = f.machine();
    m.handle(request(0, 1, true),
             bytes(text({{"InitiatorName", "iqn.i"}, {"TargetName", "iqn.2026-01.test:open"}})));
    m.handle(request(1, 3, false), bytes(text({{"MaxBurstLength", "4096"}})));
    CHECK(m.handle(request(1, 3, true), bytes(text({{"MaxBurstLength", "4096"}}))).header.status_class == 2);

    LoginMachine m2 = f.machine();
    CHECK(m2.handle(request(1, 3, true),
                    bytes(text({{"InitiatorName", "iqn.i"}, {"TargetName", "iqn.2026-01.test:chap"}})))
              .header.status_detail == 1);

    LoginMachine m3 = f.machine();
    m3.handle(request(0, 1, true),
              bytes(text({{"InitiatorName", "iqn.i"}, {"TargetName", "iqn.2026-01.test:open"}})));
    CHECK(m3.handle(request(0, 1, true), {}).header.status_class == 2);
}

TEST_CASE("redirect: 01/01 and only TargetAddress, before the target is looked up or authenticated") {
    Fixture f;
    const Redirect to{boost::asio::ip::make_address("192.0.2.20"), 3261, 3};
    // A CHAP target, and one this server does not have: neither is authenticated nor looked up.
    for (const char* target : {"iqn.2026-01.test:chap", "iqn.2026-01.test:elsewhere"}) {
        std::vector<std::pair<std::string, std::string>> asked;
        LoginMachine m(
            f.directory, 7, [] { return std::uint16_t{42}; }, chap::make_challenge, {},
            [&](std::string_view initiator, std::string_view name) {
                asked.emplace_back(initiator, name);
                return std::optional<Redirect>(to);
            });
        const LoginReply r = m.handle(request(0, 1, true), bytes(text({{"InitiatorName", "iqn.i"},
                                                                       {"TargetName", target},
                                                                       {"SessionType", "Normal"},
                                                                       {"AuthMethod", "CHAP,None"}})));
        CHECK(r.header.status_class == 1);
        CHECK(r.header.status_detail == 1);
        CHECK_FALSE(r.header.transit);
        CHECK(r.header.tsih == 0);
        CHECK(r.header.isid == kIsid);
        CHECK(r.text == std::string("TargetAddress=192.0.2.20:3261,3\0", 32));  // no CHAP_*, no tag
        CHECK(m.state() == LoginMachine::State::redirected);
        CHECK(m.redirect() == to);
        CHECK(m.target_name() == target);
        CHECK(m.target() == nullptr);
        CHECK(m.authenticated_user().empty());
        REQUIRE(asked.size() == 1);
        CHECK(asked[0] == std::pair<std::string, std::string>{"iqn.i", target});
        // Whatever follows on the same connection is refused.
        CHECK(m.handle(request(0, 1, true), {}).header.status_class == 2);
    }
}

TEST_CASE("redirect: discovery never asks the router; a router answering nullopt is served here") {
    Fixture f;
    int asked = 0;
    const auto machine = [&](std::optional<Redirect> answer) {
        return LoginMachine(
            f.directory, 7, [] { return std::uint16_t{42}; }, chap::make_challenge, {},
            [&asked, answer](std::string_view, std::string_view) {
                ++asked;
                return answer;
            });
    };
    const Redirect elsewhere{boost::asio::ip::make_address("192.0.2.20"), 3260, 1};
    LoginMachine discovery = machine(elsewhere);
    LoginReply r = discovery.handle(
        request(0, 1, true),
        bytes(text({{"InitiatorName", "iqn.i"}, {"SessionType", "Discovery"}, {"AuthMethod", "None"}})));
    CHECK(r.header.status_class == 0);
    CHECK(asked == 0);

    LoginMachine here = machine(std::nullopt);
    r = here.handle(request(0, 1, true), bytes(text({{"InitiatorName", "iqn.i"},
                                                     {"TargetName", "iqn.2026-01.test:open"},
                                                     {"AuthMethod", "None"}})));
    CHECK(r.header.status_class == 0);
    CHECK(keys(r).at("TargetPortalGroupTag") == "7");
    r = here.handle(request(1, 3, true), bytes(text({{"MaxRecvDataSegmentLength", "8192"}})));
    CHECK(here.state() == LoginMachine::State::complete);
    CHECK(asked == 1);  // once per login, not per PDU
}

TEST_CASE("redirect: TargetAddress encoding and the status bytes on the wire") {
    const auto address = [](const char* ip, std::uint16_t port, std::uint16_t tag) {
        return target_address(Redirect{boost::asio::ip::make_address(ip), port, tag});
    };
    CHECK(address("10.0.0.2", 3260, 1) == "10.0.0.2:3260,1");
    CHECK(address("fd00::2", 3260, 1) == "[fd00::2]:3260,1");
    CHECK(address("::ffff:10.0.0.2", 3261, 2) == "10.0.0.2:3261,2");

    LoginResponse response;
    response.current_stage = kSecurityStage;
    response.status_class = login_status::target_moved_temporarily.status_class;
    response.status_detail = login_status::target_moved_temporarily.detail;
    response.data_segment_length = 32;
    Bhs bhs{};
    build(bhs, response, SequenceNumbers{});
    CHECK(bhs[0] == 0x23);        // Login Response
    CHECK((bhs[1] & 0x80) == 0);  // T bit clear: the login ends here
    CHECK(bhs[36] == 0x01);       // Status-Class: redirection
    CHECK(bhs[37] == 0x01);       // Status-Detail: target moved temporarily
    CHECK(bootherd::load_be24(bhs.data() + 5) == 32);
}

TEST_CASE("redirect: parse_portal reads the catalog's \"ip:port\" / \"[ipv6]:port\"") {
    const auto v4 = parse_portal("10.0.0.9:3260", 2);
    REQUIRE(v4);
    CHECK(*v4 == Redirect{boost::asio::ip::make_address("10.0.0.9"), 3260, 2});
    const auto v6 = parse_portal("[fd00::9]:3261");
    REQUIRE(v6);
    CHECK(target_address(*v6) == "[fd00::9]:3261,1");
    for (const char* bad :
         {"10.0.0.9", "10.0.0.9:", "10.0.0.9:0", "10.0.0.9:65536", "10.0.0.9:32x", "fd00::9", "fd00::9:3260",
          "[10.0.0.9]:3260", "[fd00::9]", "host.example:3260", ":3260", ""})
        CHECK_MESSAGE(!parse_portal(bad), bad);
}
