#include <doctest/doctest.h>

#include "common/bytes.hpp"
#include "target/iscsi/pdu.hpp"

using namespace bootherd;
using namespace bootherd::iscsi;

namespace {
template <class T>
T parse_as(const Bhs& bhs, std::span<const std::uint8_t> ahs = {}) {
    const ParseResult r = parse_request(bhs, ahs);
    REQUIRE(r.error == ParseError::none);
    REQUIRE(std::holds_alternative<T>(r.request));
    return std::get<T>(r.request);
}
}  // namespace

TEST_CASE("SCSI Command round-trips through build and parse") {
    ScsiCommand c;
    c.immediate = true;
    c.read = true;
    c.attribute = 2;
    c.lun = encode_lun(3);
    c.initiator_task_tag = 0x11223344;
    c.expected_data_transfer_length = 4096;
    c.cmd_sn = 77;
    c.exp_stat_sn = 88;
    c.cdb[0] = 0x28;
    c.cdb[15] = 0x99;
    Bhs bhs;
    build(bhs, c, 0);
    CHECK(bhs[0] == 0x41);
    const auto p = parse_as<ScsiCommand>(bhs);
    CHECK(p.immediate);
    CHECK(p.read);
    CHECK_FALSE(p.write);
    CHECK(p.attribute == 2);
    CHECK(decode_lun(p.lun) == 3);
    CHECK(p.initiator_task_tag == 0x11223344);
    CHECK(p.expected_data_transfer_length == 4096);
    CHECK(p.cmd_sn == 77);
    CHECK(p.exp_stat_sn == 88);
    CHECK(p.cdb == c.cdb);
}

TEST_CASE("extended CDB AHS is parsed and bounds-checked") {
    ScsiCommand c;
    c.cdb[0] = 0x7f;
    Bhs bhs;
    build(bhs, c, 0);
    // AHSLength 5: reserved byte + 4 CDB bytes; 3 + 5 = 8 bytes, already a multiple of 4.
    const std::array<std::uint8_t, 8> ahs{0, 5, 1, 0, 0xa, 0xb, 0xc, 0xd};
    bhs[4] = 2;
    const auto p = parse_as<ScsiCommand>(bhs, ahs);
    REQUIRE(p.extended_cdb.size() == 4);
    CHECK(p.extended_cdb[0] == 0xa);
    CHECK(p.extended_cdb[3] == 0xd);

    const std::array<std::uint8_t, 8> too_long{0, 9, 1, 0, 0, 0, 0, 0};
    CHECK(parse_request(bhs, too_long).error == ParseError::bad_ahs);
    CHECK(parse_request(bhs, std::span(ahs).first(4)).error ==
          ParseError::bad_ahs);  // TotalAHSLength mismatch
}

TEST_CASE("Data-Out, NOP-Out, TMF, Login, Text and Logout round-trip") {
    Bhs bhs;
    DataOut d;
    d.final_bit = true;
    d.initiator_task_tag = 5;
    d.target_transfer_tag = 0x30;
    d.data_sn = 2;
    d.buffer_offset = 1024;
    build(bhs, d, 512);
    CHECK(load_be24(bhs.data() + 5) == 512);
    const auto pd = parse_as<DataOut>(bhs);
    CHECK(pd.final_bit);
    CHECK(pd.target_transfer_tag == 0x30);
    CHECK(pd.data_sn == 2);
    CHECK(pd.buffer_offset == 1024);

    NopOut n;
    n.immediate = true;
    n.initiator_task_tag = 9;
    n.cmd_sn = 3;
    build(bhs, n, 0);
    CHECK(parse_as<NopOut>(bhs).cmd_sn == 3);

    TaskManagementRequest t;
    t.function = 5;
    t.lun = encode_lun(1);
    t.referenced_task_tag = 44;
    t.ref_cmd_sn = 12;
    build(bhs, t);
    const auto pt = parse_as<TaskManagementRequest>(bhs);
    CHECK(pt.function == 5);
    CHECK(pt.referenced_task_tag == 44);
    CHECK(pt.ref_cmd_sn == 12);

    LoginRequest l;
    l.transit = true;
    l.current_stage = 1;
    l.next_stage = 3;
    l.isid = 0x23d000000001ull;
    l.cid = 7;
    l.cmd_sn = 100;
    build(bhs, l, 10);
    const auto pl = parse_as<LoginRequest>(bhs);
    CHECK(pl.transit);
    CHECK(pl.current_stage == 1);
    CHECK(pl.next_stage == 3);
    CHECK(pl.isid == 0x23d000000001ull);
    CHECK(pl.cid == 7);
    CHECK(pl.cmd_sn == 100);

    TextRequest x;
    x.initiator_task_tag = 3;
    x.target_transfer_tag = 1;
    build(bhs, x, 0);
    CHECK(parse_as<TextRequest>(bhs).target_transfer_tag == 1);

    LogoutRequest o;
    o.reason = 1;
    o.cid = 2;
    build(bhs, o);
    CHECK(parse_as<LogoutRequest>(bhs).reason == 1);
}

TEST_CASE("malformed and unexpected headers are classified") {
    Bhs bhs{};
    bhs[0] = 0x21;  // a SCSI Response: a target opcode from the initiator
    CHECK(parse_request(bhs, {}).error == ParseError::target_opcode);

    bhs[0] = 0x1c;  // not an opcode at all
    const ParseResult unknown = parse_request(bhs, {});
    CHECK(unknown.error == ParseError::none);
    REQUIRE(std::holds_alternative<UnknownOpcode>(unknown.request));
    CHECK(std::get<UnknownOpcode>(unknown.request).opcode == 0x1c);

    LoginRequest l;
    l.transit = true;
    l.continue_bit = true;  // T and C together are forbidden
    build(bhs, l, 0);
    CHECK(parse_request(bhs, {}).error == ParseError::bad_field);

    ScsiCommand bidi;
    bidi.read = bidi.write = true;
    build(bhs, bidi, 0);
    CHECK(parse_request(bhs, {}).error == ParseError::bad_field);

    NopOut ping;  // ITT reserved but not immediate
    build(bhs, ping, 0);
    CHECK(parse_request(bhs, {}).error == ParseError::bad_field);

    LogoutRequest o;
    o.reason = 9;
    build(bhs, o);
    CHECK(parse_request(bhs, {}).error == ParseError::bad_field);
}

TEST_CASE("target PDUs carry their fields where RFC 7143 puts them") {
    Bhs bhs;
    const SequenceNumbers sn{10, 20, 30};
    DataIn d;
    d.final_bit = true;
    d.status_present = true;
    d.underflow = true;
    d.residual_count = 512;
    d.initiator_task_tag = 0xabcd;
    d.data_sn = 4;
    d.buffer_offset = 8192;
    d.data_segment_length = 100;
    build(bhs, d, sn);
    CHECK(bhs[0] == 0x25);
    CHECK(bhs[1] == (0x80 | 0x02 | 0x01));
    CHECK(load_be<std::uint32_t>(bhs.data() + 20) == 0xffffffff);
    CHECK(load_be<std::uint32_t>(bhs.data() + 24) == 10);
    CHECK(load_be<std::uint32_t>(bhs.data() + 32) == 30);
    CHECK(load_be<std::uint32_t>(bhs.data() + 36) == 4);
    CHECK(load_be<std::uint32_t>(bhs.data() + 40) == 8192);
    CHECK(load_be<std::uint32_t>(bhs.data() + 44) == 512);

    d.status_present = false;
    build(bhs, d, sn);
    CHECK(load_be<std::uint32_t>(bhs.data() + 24) == 0);  // StatSN only with status
    CHECK(load_be<std::uint32_t>(bhs.data() + 44) == 0);

    LoginResponse l;
    l.transit = true;
    l.current_stage = 1;
    l.next_stage = 3;
    l.isid = 0x800000000001ull;
    l.tsih = 9;
    l.status_class = 2;
    l.status_detail = 3;
    build(bhs, l, sn);
    CHECK(bhs[1] == 0x87);
    CHECK(bhs[8] == 0x80);
    CHECK(bhs[13] == 0x01);
    CHECK(load_be<std::uint16_t>(bhs.data() + 14) == 9);
    CHECK(bhs[36] == 2);
    CHECK(bhs[37] == 3);

    ReadyToTransfer r;
    r.target_transfer_tag = 0x51;
    r.r2t_sn = 1;
    r.buffer_offset = 4096;
    r.desired_length = 2048;
    build(bhs, r, sn);
    CHECK(bhs[0] == 0x31);
    CHECK(load_be<std::uint32_t>(bhs.data() + 44) == 2048);

    RejectPdu j{RejectReason::command_not_supported};
    build(bhs, j, sn);
    CHECK(bhs[2] == 0x05);
    CHECK(load_be24(bhs.data() + 5) == 48);

    set_sequence_numbers(bhs, {1, 2, 3});
    CHECK(load_be<std::uint32_t>(bhs.data() + 28) == 2);
}

TEST_CASE("LUN field encoding") {
    CHECK(decode_lun(encode_lun(0)) == 0);
    CHECK(decode_lun(encode_lun(255)) == 255);
    CHECK(decode_lun(encode_lun(1000)) == 1000);
    const std::array<std::uint8_t, 8> flat{0x40, 0x05, 0, 0, 0, 0, 0, 0};
    CHECK(decode_lun(flat) == 5);
}
