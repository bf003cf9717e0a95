#include <doctest/doctest.h>

#include "target/scsi/cdb.hpp"
#include "target/scsi/sense.hpp"
#include "tests/unit/scsi/harness.hpp"

using namespace bootherd::scsi;
using namespace bootherd::scsi::testing;

namespace {
SenseData error_of(auto&& fn) {
    try {
        fn();
    } catch (const CommandError& e) {
        return e.sense();
    }
    FAIL("no CommandError thrown");
    return {};
}
}  // namespace

TEST_CASE("cdb: CDB size follows the group code") {
    CHECK(cdb_size_for_opcode(0x00) == 6);
    CHECK(cdb_size_for_opcode(0x28) == 10);
    CHECK(cdb_size_for_opcode(0x5e) == 10);
    CHECK(cdb_size_for_opcode(0x88) == 16);
    CHECK(cdb_size_for_opcode(0xa8) == 12);
    CHECK(cdb_size_for_opcode(0x7f) == 0);
    CHECK(cdb_size_for_opcode(0xc0) == 0);
}

TEST_CASE("cdb: READ(6) has a 21-bit LBA and 0 means 256 blocks") {
    const Bytes c = {0x08, 0xff, 0x12, 0x34, 0x00, 0x00};
    const auto d = decode_block_command(c);
    CHECK(d.lba == 0x1f1234);
    CHECK(d.blocks == 256);
    const Bytes c2 = {0x0a, 0x00, 0x00, 0x07, 0x05, 0x00};
    CHECK(decode_block_command(c2).blocks == 5);
}

TEST_CASE("cdb: READ(10/12/16) fields and flags") {
    auto d10 = decode_block_command(rw10(0x28, 0xdeadbeef, 0x1234, 0x20 | 0x10 | 0x08));
    CHECK(d10.lba == 0xdeadbeef);
    CHECK(d10.blocks == 0x1234);
    CHECK(d10.protect == 1);
    CHECK(d10.dpo);
    CHECK(d10.fua);
    CHECK(d10.bytchk == 0);
    auto d12 = decode_block_command(rw12(0xa8, 7, 0x10000));
    CHECK(d12.blocks == 0x10000);
    auto d16 = decode_block_command(rw16(0x88, 0x0102030405060708ull, 0xffffffff));
    CHECK(d16.lba == 0x0102030405060708ull);
    CHECK(d16.blocks == 0xffffffffu);
}

TEST_CASE("cdb: VERIFY has BYTCHK and no FUA") {
    auto d = decode_block_command(rw10(0x2f, 1, 2, 0x02 | 0x10));
    CHECK(d.bytchk == 1);
    CHECK(d.dpo);
    CHECK_FALSE(d.fua);
    CHECK(decode_block_command(rw16(0x8f, 1, 2, 0x06)).bytchk == 3);
}

TEST_CASE("cdb: a CDB shorter than its opcode needs is an invalid field") {
    const Bytes short_read16 = {0x88, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    auto s = error_of([&] { decode_block_command(short_read16); });
    CHECK(s.key == SenseKey::illegal_request);
    CHECK(s.asc == asc::invalid_field_in_cdb);
    const Bytes empty;
    CHECK(error_of([&] { decode_service_action(empty); }).asc == asc::invalid_field_in_cdb);
}

TEST_CASE("cdb: INQUIRY rejects a page code without EVPD and CMDDT") {
    CHECK(error_of([] { decode_inquiry(Bytes{0x12, 0x00, 0x80, 0, 0xff, 0}); }).field->byte == 2);
    CHECK(error_of([] { decode_inquiry(Bytes{0x12, 0x02, 0x00, 0, 0xff, 0}); }).field->byte == 1);
    auto d = decode_inquiry(Bytes{0x12, 0x01, 0xb0, 0x01, 0x00, 0});
    CHECK(d.evpd);
    CHECK(d.page_code == 0xb0);
    CHECK(d.allocation_length == 256);
}

TEST_CASE("cdb: WRITE SAME flags") {
    Bytes c = rw16(0x93, 5, 9, 0x08 | 0x01 | 0x10);
    auto d = decode_write_same(c);
    CHECK(d.unmap);
    CHECK(d.ndob);
    CHECK(d.anchor);
    CHECK(d.blocks == 9);
    auto d10 = decode_write_same(rw10(0x41, 5, 9, 0x04 | 0x02));
    CHECK(d10.pbdata);
    CHECK(d10.lbdata);
    CHECK_FALSE(d10.ndob);
}

TEST_CASE("cdb: READ CAPACITY(10) needs PMI for a non-zero LBA") {
    CHECK(error_of([] {
              decode_read_capacity10(Bytes{0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0});
          }).asc == asc::invalid_field_in_cdb);
    CHECK(decode_read_capacity10(Bytes{0x25, 0, 0, 0, 0, 1, 0, 0, 1, 0}).pmi);
}

TEST_CASE("cdb: PERSISTENT RESERVE OUT and service actions") {
    Bytes c(10, 0);
    c[0] = 0x5f;
    c[1] = 0x04;
    c[2] = 0x05;
    c[8] = 24;
    auto d = decode_persistent_reserve_out(c);
    CHECK(d.service_action == 4);
    CHECK(d.scope == 0);
    CHECK(d.type == 5);
    CHECK(d.parameter_list_length == 24);
    CHECK(decode_service_action(Bytes{0x9e, 0x10}) == 0x10);
}

TEST_CASE("cdb: NACA in the control byte") {
    CHECK(control_byte_has_naca(Bytes{0x00, 0, 0, 0, 0, 0x04}));
    CHECK_FALSE(control_byte_has_naca(Bytes{0x00, 0, 0, 0, 0, 0x00}));
    CHECK_FALSE(control_byte_has_naca(Bytes{0x88, 0}));
}

TEST_CASE("sense: fixed and descriptor formats") {
    SenseData s{SenseKey::illegal_request, asc::invalid_field_in_cdb, std::nullopt, FieldPointer{true, 7, 3}};
    std::array<std::uint8_t, 32> out{};
    REQUIRE(encode_sense(s, SenseFormat::fixed, out) == 18);
    CHECK(out[0] == 0x70);
    CHECK(out[2] == 0x05);
    CHECK(out[7] == 10);
    CHECK(out[12] == 0x24);
    CHECK(out[15] == (0x80 | 0x40 | 0x08 | 3));
    CHECK(out[17] == 7);

    SenseData m{SenseKey::miscompare, asc::miscompare_during_verify, 0x1234, std::nullopt};
    REQUIRE(encode_sense(m, SenseFormat::fixed, out) == 18);
    CHECK(out[0] == 0xf0);
    CHECK(bootherd::load_be<std::uint32_t>(out.data() + 3) == 0x1234);
    const auto n = encode_sense(m, SenseFormat::descriptor, out);
    CHECK(n == 20);
    CHECK(out[0] == 0x72);
    CHECK(out[1] == 0x0e);
    CHECK(out[2] == 0x1d);
    CHECK(out[7] == 12);
    CHECK(out[8] == 0x00);
    CHECK(out[10] == 0x80);
    CHECK(bootherd::load_be<std::uint64_t>(out.data() + 12) == 0x1234);
}
