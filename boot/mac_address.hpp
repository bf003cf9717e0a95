#pragma once
// An Ethernet MAC address as a value type. Text form: lower-case hex with colons ("52:54:00:12:34:56"),
// the form iPXE's ${mac} expands to, so URLs built here and in iPXE scripts agree.
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bootherd::boot {

struct MacAddress {
    std::array<std::uint8_t, 6> bytes{};

    // Accepts "aa:bb:cc:dd:ee:ff" and "aa-bb-cc-dd-ee-ff", either case.
    static std::optional<MacAddress> parse(std::string_view text);
    std::string to_string() const;

    auto operator<=>(const MacAddress&) const = default;
};

}  // namespace bootherd::boot
