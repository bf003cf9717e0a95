#include <doctest/doctest.h>

#include <vector>

#include "target/iscsi/data_transfer.hpp"

using namespace bootherd::iscsi;

namespace {
std::vector<DataInPdu> split(std::uint32_t total, std::uint32_t max_pdu, std::uint32_t max_burst) {
    std::vector<DataInPdu> pdus;
    DataInSplitter s(total, max_pdu, max_burst);
    while (!s.done())
        pdus.push_back(s.next());
    return pdus;
}
}  // namespace

TEST_CASE("Data-In is split by MaxRecvDataSegmentLength and MaxBurstLength") {
    const auto pdus = split(20000, 8192, 16384);
    REQUIRE(pdus.size() == 3);
    CHECK(pdus[0].offset == 0);
    CHECK(pdus[0].length == 8192);
    CHECK_FALSE(pdus[0].final_bit);
    CHECK(pdus[1].length == 8192);
    CHECK(pdus[1].final_bit);  // end of the first 16 KiB sequence
    CHECK_FALSE(pdus[1].last);
    CHECK(pdus[2].offset == 16384);
    CHECK(pdus[2].length == 20000 - 16384);
    CHECK(pdus[2].final_bit);
    CHECK(pdus[2].last);
    for (std::size_t i = 0; i < pdus.size(); ++i)
        CHECK(pdus[i].data_sn == i);
}

TEST_CASE("a burst that is not a multiple of the PDU size is respected") {
    const auto pdus = split(3 * 1536, 1024, 1536);
    std::uint32_t offset = 0;
    for (const auto& p : pdus) {
        CHECK(p.offset == offset);
        CHECK(p.length <= 1024);
        offset += p.length;
    }
    CHECK(offset == 3 * 1536);
    CHECK(pdus.size() == 6);
    CHECK(pdus[1].final_bit);
    CHECK(pdus[1].offset + pdus[1].length == 1536);
}

TEST_CASE("a large read (iPXE ignores MaxBurstLength) becomes many PDUs") {
    const auto pdus = split(1u << 20, 8192, 262144);
    CHECK(pdus.size() == 128);
    int finals = 0;
    for (const auto& p : pdus)
        finals += p.final_bit ? 1 : 0;
    CHECK(finals == 4);
    CHECK(split(0, 8192, 262144).empty());
}

TEST_CASE("write with InitialR2T: one R2T at a time, as iPXE expects") {
    WriteTransfer w;
    w.start(4096, 0, true, WriteParams{true, 65536, 2048, 1});
    CHECK_FALSE(w.complete());
    auto r = w.next_r2t();
    REQUIRE(r);
    CHECK(r->offset == 0);
    CHECK(r->length == 2048);
    CHECK(r->r2t_sn == 0);
    CHECK_FALSE(w.next_r2t());  // MaxOutstandingR2T=1
    for (std::uint32_t off = 0; off < 2048; off += 512)
        CHECK(w.accept(r->slot, off, 512, off + 512 == 2048, off / 512) == WriteTransfer::Result::accepted);
    r = w.next_r2t();
    REQUIRE(r);
    CHECK(r->offset == 2048);
    CHECK(r->r2t_sn == 1);
    CHECK(w.accept(r->slot, 2048, 2048, true, 0) == WriteTransfer::Result::accepted);  // DataSN restarts
    CHECK(w.complete());
    CHECK_FALSE(w.next_r2t());
}

TEST_CASE("immediate and unsolicited data, then solicited bursts in parallel") {
    WriteTransfer w;
    w.start(10000, 1000, false, WriteParams{false, 4000, 2000, 4});
    CHECK(w.received() == 1000);
    std::vector<R2tRequest> r2ts;
    while (auto r = w.next_r2t())
        r2ts.push_back(*r);
    REQUIRE(r2ts.size() == 3);
    CHECK(r2ts[0].offset == 4000);
    CHECK(r2ts[2].offset == 8000);
    CHECK(r2ts[2].length == 2000);
    // Unsolicited data must continue exactly after the immediate data.
    CHECK(w.accept(WriteTransfer::kUnsolicited, 1500, 100, false, 0) ==
          WriteTransfer::Result::protocol_error);
    w.start(10000, 1000, false, WriteParams{false, 4000, 2000, 4});
    while (w.next_r2t()) {
    }
    CHECK(w.accept(WriteTransfer::kUnsolicited, 1000, 3000, true, 0) == WriteTransfer::Result::accepted);
    CHECK(w.accept(WriteTransfer::kUnsolicited, 4000, 100, true, 1) == WriteTransfer::Result::protocol_error);
    for (const auto& r : r2ts)
        CHECK(w.accept(r.slot, r.offset, r.length, true, 0) == WriteTransfer::Result::accepted);
    CHECK(w.complete());
}

TEST_CASE("bad Data-Out is a protocol error") {
    WriteTransfer w;
    w.start(4096, 0, true, WriteParams{true, 65536, 262144, 1});
    const auto r = w.next_r2t();
    REQUIRE(r);
    CHECK(w.accept(WriteTransfer::kUnsolicited, 0, 512, false, 0) == WriteTransfer::Result::protocol_error);
    CHECK(w.accept(r->slot + 1, 0, 512, false, 0) == WriteTransfer::Result::protocol_error);
    CHECK(w.accept(r->slot, 0, 8192, true, 0) == WriteTransfer::Result::protocol_error);  // beyond the R2T
    CHECK_FALSE(w.data_sn_error());
    w.start(4096, 0, true, WriteParams{true, 65536, 262144, 1});
    const auto again = w.next_r2t();
    REQUIRE(again);
    CHECK(w.accept(again->slot, 0, 4096, false, 0) == WriteTransfer::Result::protocol_error);  // F missing
}

TEST_CASE("a wrong DataSN is recorded, and the transfer still runs to its end") {
    WriteTransfer w;
    SUBCASE("solicited Data-Out in reverse DataSN order") {
        w.start(1024, 0, true, WriteParams{true, 65536, 262144, 1});
        const auto r = w.next_r2t();
        REQUIRE(r);
        CHECK(w.accept(r->slot, 0, 512, false, 1) == WriteTransfer::Result::accepted);
        CHECK(w.data_sn_error());
        CHECK(w.accept(r->slot, 512, 512, true, 0) == WriteTransfer::Result::accepted);
    }
    SUBCASE("unsolicited Data-Out with a DataSN that skips") {
        w.start(1024, 0, false, WriteParams{false, 65536, 262144, 1});
        CHECK(w.accept(WriteTransfer::kUnsolicited, 0, 512, false, 0) == WriteTransfer::Result::accepted);
        CHECK_FALSE(w.data_sn_error());
        CHECK(w.accept(WriteTransfer::kUnsolicited, 512, 512, true, 27) == WriteTransfer::Result::accepted);
        CHECK(w.data_sn_error());
    }
    CHECK(w.complete());
    w.start(512, 0, true, WriteParams{true, 65536, 262144, 1});
    CHECK_FALSE(w.data_sn_error());  // a new command starts clean
}
