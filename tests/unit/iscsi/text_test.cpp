#include <doctest/doctest.h>

#include <string>

#include "target/iscsi/text.hpp"

using namespace bootherd::iscsi;
using namespace std::string_literals;

namespace {
ParsedText parse(const std::string& s) {
    return parse_text(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}
}  // namespace

TEST_CASE("text keys parse with and without the final NUL") {
    const std::string text = "InitiatorName=iqn.x\0SessionType=Normal\0\0\0TargetName=t"s;
    const ParsedText p = parse(text);
    CHECK(p.error == TextError::none);
    REQUIRE(p.pairs.size() == 3);
    CHECK(p.pairs[0].key == "InitiatorName");
    CHECK(p.pairs[0].value == "iqn.x");
    CHECK(p.pairs[2].value == "t");
    CHECK(parse("Empty=").pairs.at(0).value.empty());
}

TEST_CASE("malformed text is refused") {
    CHECK(parse(std::string("NoEquals\0", 9)).error == TextError::missing_equals);
    CHECK(parse("=value").error == TextError::bad_key);
    CHECK(parse("bad key=1").error == TextError::bad_key);
    CHECK(parse(std::string(64, 'K') + "=1").error == TextError::bad_key);
    CHECK(parse("K=" + std::string(kMaxValueLength + 1, 'v')).error == TextError::too_long);
    std::string many;
    for (std::size_t i = 0; i <= kMaxKeys; ++i)
        many += "X-k" + std::to_string(i) + "=1" + std::string(1, '\0');
    CHECK(parse(many).error == TextError::too_many_keys);
}

TEST_CASE("append_pair writes key=value NUL") {
    std::string out;
    append_pair(out, "A", "b");
    append_pair(out, "C", "");
    CHECK(out == std::string("A=b\0C=\0", 7));
}
