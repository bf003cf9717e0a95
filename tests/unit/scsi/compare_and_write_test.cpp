#include <doctest/doctest.h>

#include <thread>

#include "tests/unit/scsi/harness.hpp"

using namespace bootherd;
using namespace bootherd::scsi;
using namespace bootherd::scsi::testing;

namespace {
Bytes caw(std::uint64_t lba, std::uint8_t blocks) {
    Bytes c(16, 0);
    c[0] = 0x89;
    store_be<std::uint64_t>(c.data() + 2, lba);
    c[13] = blocks;
    return c;
}
Bytes concat(const Bytes& a, const Bytes& b) {
    Bytes out = a;
    out.insert(out.end(), b.begin(), b.end());
    return out;
}
}  // namespace

TEST_CASE("compare and write: match writes, mismatch reports the offset") {
    Harness h;
    REQUIRE(h.run(rw10(0x2a, 3, 2), filled(1024, 0x11)).status == Status::good);
    CHECK(h.run(caw(3, 2), concat(filled(1024, 0x11), filled(1024, 0x22))).status == Status::good);
    CHECK(data_in(h.run(rw10(0x28, 3, 2))) == filled(1024, 0x22));

    auto expected = filled(1024, 0x22);
    expected[600] = 0x23;
    auto t = h.run(caw(3, 2), concat(expected, filled(1024, 0x33)));
    check_sense(t, 0x0e, 0x1d00);
    CHECK(load_be<std::uint32_t>(t.sense.data() + 3) == 600);
    CHECK(data_in(h.run(rw10(0x28, 3, 2))) == filled(1024, 0x22));
}

TEST_CASE("compare and write: invalid requests") {
    Harness h(Options{.blocks = 16});
    CHECK(h.run(caw(0, 0), h.a, {}, 0, 0u).status == Status::good);
    check_sense(h.run(caw(0, 0), filled(1024, 0)), 0x05, 0x2400);  // NLB 0 with Data-Out (256 & 0xff)
    check_sense(h.run(caw(15, 2), filled(2048, 0)), 0x05, 0x2100);
    check_sense(h.run(caw(0, 1), filled(2048, 0)), 0x05, 0x0e03);  // too much Data-Out
    check_sense(h.run(caw(0, 3), filled(2048, 0)), 0x05, 0x0e03);  // too little
    auto protect = caw(0, 1);
    protect[1] = 0x20;
    check_sense(h.run(protect, filled(1024, 0)), 0x05, 0x2400);
}

TEST_CASE("compare and write is atomic against concurrent writers") {
    // Several threads increment a counter held in block 0 with READ + COMPARE AND WRITE, retrying on
    // MISCOMPARE. If two COMPARE AND WRITEs could both match the same old value, an increment would be lost
    // and the final count would fall short of the number of successful commands.
    Harness h(Options{.blocks = 8});
    REQUIRE(h.run(rw10(0x2a, 0, 1), filled(512, 0)).status == Status::good);
    constexpr int kThreads = 4;
    constexpr int kIncrements = 200;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            Nexus n = make_nexus(100 + static_cast<std::uint64_t>(t), "iqn.2026-01.test:worker");
            h.target->attach(n);
            h.clear_unit_attentions(n);
            for (int done = 0; done < kIncrements;) {
                auto current = data_in(h.run(rw10(0x28, 0, 1), n));
                auto next = current;
                store_be<std::uint32_t>(next.data(), load_be<std::uint32_t>(current.data()) + 1);
                auto r = h.run(caw(0, 1), n, concat(current, next));
                if (r.status == Status::good) ++done;
            }
        });
    }
    for (auto& t : threads)
        t.join();
    auto final_block = data_in(h.run(rw10(0x28, 0, 1)));
    CHECK(load_be<std::uint32_t>(final_block.data()) == kThreads * kIncrements);
}

TEST_CASE("orwrite ORs the data into the medium") {
    Harness h(Options{.blocks = 16});
    REQUIRE(h.run(rw10(0x2a, 2, 1), filled(512, 0x0f)).status == Status::good);
    CHECK(h.run(rw16(0x8b, 2, 1), filled(512, 0x30)).status == Status::good);
    CHECK(data_in(h.run(rw10(0x28, 2, 1))) == filled(512, 0x3f));
    CHECK(h.run(rw16(0x8b, 2, 0)).status == Status::good);
    check_sense(h.run(rw16(0x8b, 16, 1), filled(512, 0)), 0x05, 0x2100);
    check_sense(h.run(rw16(0x8b, 2, 1, 0x20), filled(512, 0)), 0x05, 0x2400);
}
