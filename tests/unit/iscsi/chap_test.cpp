#include <doctest/doctest.h>

#include <numeric>

#include "target/iscsi/chap.hpp"

using namespace bootherd::iscsi;

TEST_CASE("CHAP MD5 response matches an independently computed vector") {
    std::array<std::uint8_t, 16> challenge{};
    std::iota(challenge.begin(), challenge.end(), 0);
    // python3: hashlib.md5(bytes([0x2a]) + b'topsecret12' + bytes(range(16))).hexdigest()
    const auto expected = chap::decode_binary("0xf973427ad694e2e66341b4327c0f7725");
    REQUIRE(expected);
    const chap::Digest digest = chap::response(0x2a, "topsecret12", challenge);
    CHECK(chap::matches(*expected, digest));
    CHECK(chap::encode_hex(digest) == "0xf973427ad694e2e66341b4327c0f7725");
    CHECK_FALSE(chap::matches(*expected, chap::response(0x2a, "topsecret13", challenge)));
    CHECK_FALSE(chap::matches(*expected, chap::response(0x2b, "topsecret12", challenge)));
    CHECK_FALSE(chap::matches(std::span(*expected).first(15), digest));
}

TEST_CASE("binary values decode from hex and base64") {
    CHECK(chap::decode_binary("0x0102ff") == std::vector<std::uint8_t>{1, 2, 255});
    CHECK(chap::decode_binary("0X102") == std::vector<std::uint8_t>{1, 2});  // odd digit count
    CHECK(chap::decode_binary("0bAQIDBAU=") == std::vector<std::uint8_t>{1, 2, 3, 4, 5});
    CHECK(chap::decode_binary("0bAQIDBAU") == std::vector<std::uint8_t>{1, 2, 3, 4, 5});
    CHECK_FALSE(chap::decode_binary("0x"));
    CHECK_FALSE(chap::decode_binary("0xzz"));
    CHECK_FALSE(chap::decode_binary("0b!!!!"));
    CHECK_FALSE(chap::decode_binary("1234"));
    CHECK_FALSE(chap::decode_binary("0x" + std::string(2 * chap::kMaxBinarySize + 2, 'a')));
}

TEST_CASE("challenges are fresh") {
    const chap::Challenge a = chap::make_challenge();
    const chap::Challenge b = chap::make_challenge();
    CHECK(a.value != b.value);
}
