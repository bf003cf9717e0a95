#include <doctest/doctest.h>

#include "tests/unit/scsi/harness.hpp"

using namespace bootherd;
using namespace bootherd::scsi;
using namespace bootherd::scsi::testing;

namespace {
constexpr std::uint8_t kIllegalRequest = 0x05;

Bytes mode_sense6(std::uint8_t page, std::uint8_t pc = 0, bool dbd = false, std::uint8_t length = 255) {
    return {
        0x1a, static_cast<std::uint8_t>(dbd ? 0x08 : 0), static_cast<std::uint8_t>(pc << 6 | page), 0, length,
        0};
}

// Finds a page in MODE SENSE(6) data.
Bytes find_page(const Bytes& data, std::uint8_t code) {
    std::size_t offset = 4 + data[3];
    while (offset + 2 <= data.size()) {
        const std::size_t length = data[offset + 1] + 2u;
        if ((data[offset] & 0x3f) == code)
            return Bytes(data.begin() + offset, data.begin() + offset + length);
        offset += length;
    }
    return {};
}

Bytes mode_select6(const Bytes& parameters, std::uint8_t flags = 0x10) {
    return {0x15, flags, 0, 0, static_cast<std::uint8_t>(parameters.size()), 0};
}
}  // namespace

TEST_CASE("mode sense: all pages, block descriptor, residual truncation") {
    Harness h(Options{.blocks = 1000});
    auto d = data_in(h.run(mode_sense6(0x3f)));
    REQUIRE(d.size() >= 12);
    CHECK(d[0] == d.size() - 1);
    CHECK((d[2] & 0x10) != 0);  // DPOFUA
    CHECK((d[2] & 0x80) == 0);  // not write protected
    REQUIRE(d[3] == 8);
    CHECK(load_be<std::uint32_t>(d.data() + 4) == 1000);
    CHECK(load_be24(d.data() + 9) == 512);
    CHECK(find_page(d, 0x08).size() == 20);
    CHECK(find_page(d, 0x0a).size() == 12);
    CHECK(find_page(d, 0x1c).size() == 12);

    auto no_bd = data_in(h.run(mode_sense6(0x0a, 0, true)));
    CHECK(no_bd[3] == 0);
    CHECK(no_bd.size() == 4 + 12);
    auto truncated = h.run(mode_sense6(0x3f, 0, false, 4));
    CHECK(truncated.data_in_length == 4);

    check_sense(h.run(mode_sense6(0x3f, 3)), kIllegalRequest, 0x3900);
    check_sense(h.run(mode_sense6(0x19)), kIllegalRequest, 0x2400);
}

TEST_CASE("mode sense(10) with long LBA descriptor") {
    Harness h(Options{.blocks = 1000});
    auto d = data_in(h.run(Bytes{0x5a, 0x10, 0x08, 0, 0, 0, 0, 0x01, 0x00, 0}));
    REQUIRE(d.size() == 8 + 16 + 20);
    CHECK(load_be<std::uint16_t>(d.data()) == d.size() - 2);
    CHECK(d[4] == 0x01);
    CHECK(load_be<std::uint16_t>(d.data() + 6) == 16);
    CHECK(load_be<std::uint64_t>(d.data() + 8) == 1000);
}

TEST_CASE("mode sense: WCE follows the backend") {
    Harness h;
    auto g = h.disk->geometry();
    g.write_cache = true;
    h.disk->set_geometry(g);
    auto d = data_in(h.run(mode_sense6(0x08)));
    CHECK((find_page(d, 0x08)[2] & 0x04) != 0);
    auto changeable = data_in(h.run(mode_sense6(0x08, 1)));
    CHECK(find_page(changeable, 0x08)[2] == 0);
}

TEST_CASE("mode select: D_SENSE switches the sense format") {
    Harness h;
    auto control = find_page(data_in(h.run(mode_sense6(0x0a, 0, true))), 0x0a);
    control[2] |= 0x04;
    Bytes parameters(4, 0);
    parameters.insert(parameters.end(), control.begin(), control.end());
    REQUIRE(h.run(mode_select6(parameters), parameters).status == Status::good);
    auto t = h.run(rw10(0x28, 1u << 30, 1));
    REQUIRE(t.status == Status::check_condition);
    CHECK(t.sense[0] == 0x72);
    CHECK(t.sense[2] == 0x21);
    // The other nexus learns that the mode parameters changed.
    auto other = h.run(Bytes{0x00, 0, 0, 0, 0, 0}, h.b);
    CHECK(other.status == Status::check_condition);
    CHECK(sense_code(other) == 0x2a01);

    control[2] &= static_cast<std::uint8_t>(~0x04);
    Bytes back(4, 0);
    back.insert(back.end(), control.begin(), control.end());
    REQUIRE(h.run(mode_select6(back), back).status == Status::good);
    CHECK(h.run(rw10(0x28, 1u << 30, 1)).sense[0] == 0x70);
}

TEST_CASE("mode select: SWP write-protects the unit") {
    Harness h;
    auto control = find_page(data_in(h.run(mode_sense6(0x0a, 0, true))), 0x0a);
    control[4] |= 0x08;
    Bytes parameters(4, 0);
    parameters.insert(parameters.end(), control.begin(), control.end());
    REQUIRE(h.run(mode_select6(parameters), parameters).status == Status::good);
    check_sense(h.run(rw10(0x2a, 0, 1), filled(512, 0)), 0x07, 0x2702);
    CHECK(h.run(rw10(0x28, 0, 1)).status == Status::good);
}

TEST_CASE("mode select: validation") {
    Harness h;
    auto control = find_page(data_in(h.run(mode_sense6(0x0a, 0, true))), 0x0a);
    Bytes parameters(4, 0);
    parameters.insert(parameters.end(), control.begin(), control.end());
    check_sense(h.run(mode_select6(parameters, 0x00), parameters), kIllegalRequest, 0x2400);  // PF = 0
    check_sense(h.run(mode_select6(parameters, 0x11), parameters), kIllegalRequest, 0x2400);  // SP = 1
    auto changed = parameters;
    changed[4 + 3] ^= 0x10;  // queue algorithm modifier is not changeable
    auto t = h.run(mode_select6(changed), changed);
    check_sense(t, kIllegalRequest, 0x2600);
    CHECK(t.sense[15] == 0x80);  // SKSV, in the parameter list
    CHECK(load_be<std::uint16_t>(t.sense.data() + 16) == 7);
    auto wrong_length = parameters;
    wrong_length[5] = 0x08;
    check_sense(h.run(mode_select6(wrong_length), wrong_length), kIllegalRequest, 0x2600);
    Bytes unknown = {0, 0, 0, 0, 0x19, 0x02, 0, 0};
    check_sense(h.run(mode_select6(unknown), unknown), kIllegalRequest, 0x2600);
    Bytes with_descriptor = {0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0x10, 0x00};  // block length 4096 != 512
    check_sense(h.run(mode_select6(with_descriptor), with_descriptor), kIllegalRequest, 0x2600);
    Bytes good_descriptor = {0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0x02, 0x00};
    CHECK(h.run(mode_select6(good_descriptor), good_descriptor).status == Status::good);
}

TEST_CASE("report supported operation codes") {
    Harness h;
    auto all = data_in(h.run(Bytes{0xa3, 0x0c, 0x00, 0, 0, 0, 0, 0, 0x10, 0, 0, 0}));
    const std::uint32_t length = load_be<std::uint32_t>(all.data());
    REQUIRE(length + 4 == all.size());
    REQUIRE(length % 8 == 0);
    bool saw_read10 = false, saw_read_capacity16 = false;
    for (std::size_t i = 4; i < all.size(); i += 8) {
        if (all[i] == 0x28) saw_read10 = load_be<std::uint16_t>(all.data() + i + 6) == 10;
        if (all[i] == 0x9e && load_be<std::uint16_t>(all.data() + i + 2) == 0x10)
            saw_read_capacity16 = (all[i + 5] & 0x01) != 0;
    }
    CHECK(saw_read10);
    CHECK(saw_read_capacity16);

    auto timeouts = data_in(h.run(Bytes{0xa3, 0x0c, 0x80, 0, 0, 0, 0, 0, 0x10, 0, 0, 0}));
    CHECK((load_be<std::uint32_t>(timeouts.data())) % 20 == 0);
    CHECK((timeouts[4 + 5] & 0x02) != 0);

    auto one = data_in(h.run(Bytes{0xa3, 0x0c, 0x01, 0x28, 0, 0, 0, 0, 0x01, 0, 0, 0}));
    REQUIRE(one.size() == 4 + 10);
    CHECK((one[1] & 0x07) == 3);
    CHECK(one[4] == 0x28);
    CHECK((one[5] & 0x18) == 0x18);  // DPO and FUA are evaluated

    auto with_sa = data_in(h.run(Bytes{0xa3, 0x0c, 0x82, 0x9e, 0, 0x10, 0, 0, 0x01, 0, 0, 0}));
    REQUIRE(with_sa.size() == 4 + 16 + 12);
    CHECK((with_sa[1] & 0x80) != 0);
    CHECK(with_sa[5] == 0x10);
    CHECK(load_be<std::uint16_t>(with_sa.data() + 20) == 0x0a);

    auto unsupported = data_in(h.run(Bytes{0xa3, 0x0c, 0x01, 0xc5, 0, 0, 0, 0, 0x01, 0, 0, 0}));
    CHECK((unsupported[1] & 0x07) == 1);
    check_sense(h.run(Bytes{0xa3, 0x0c, 0x01, 0x9e, 0, 0, 0, 0, 0x01, 0, 0, 0}), kIllegalRequest, 0x2400);
    check_sense(h.run(Bytes{0xa3, 0x0c, 0x02, 0x28, 0, 0, 0, 0, 0x01, 0, 0, 0}), kIllegalRequest, 0x2400);
    check_sense(h.run(Bytes{0xa3, 0x0c, 0x07, 0x28, 0, 0, 0, 0, 0x01, 0, 0, 0}), kIllegalRequest, 0x2400);
}
