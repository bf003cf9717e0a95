#include <doctest/doctest.h>

#include <string_view>
#include <vector>

#include "common/crc32c.hpp"

using bootherd::crc32c;

TEST_CASE("crc32c matches the RFC 3720 B.4 test vectors") {
    std::vector<unsigned char> zeros(32, 0x00), ones(32, 0xff), inc(32), dec(32);
    for (int i = 0; i < 32; ++i) {
        inc[i] = static_cast<unsigned char>(i);
        dec[i] = static_cast<unsigned char>(31 - i);
    }
    CHECK(crc32c(zeros.data(), zeros.size()) == 0x8a9136aau);
    CHECK(crc32c(ones.data(), ones.size()) == 0x62a8ab43u);
    CHECK(crc32c(inc.data(), inc.size()) == 0x46dd794eu);
    CHECK(crc32c(dec.data(), dec.size()) == 0x113fdb5cu);
}

TEST_CASE("crc32c of the check string and incremental continuation") {
    std::string_view s = "123456789";
    CHECK(crc32c(s.data(), s.size()) == 0xe3069283u);
    for (std::size_t cut = 0; cut <= s.size(); ++cut) {
        auto first = crc32c(s.data(), cut);
        CHECK(crc32c(s.data() + cut, s.size() - cut, first) == 0xe3069283u);
    }
}

TEST_CASE("crc32c of unaligned lengths agrees with byte-at-a-time continuation") {
    std::vector<unsigned char> data(1000);
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<unsigned char>(i * 7 + 3);
    for (std::size_t off = 0; off < 9; ++off) {
        auto whole = crc32c(data.data() + off, data.size() - off);
        std::uint32_t piecewise = 0;
        for (std::size_t i = off; i < data.size(); ++i)
            piecewise = crc32c(&data[i], 1, piecewise);
        CHECK(whole == piecewise);
    }
}
