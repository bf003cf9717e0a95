#pragma once
// GUIDs as VHDX stores them: Microsoft's mixed-endian layout (Data1..Data3 little-endian, Data4 as bytes).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace bootherd::imagestore {

struct Guid {
    std::array<std::byte, 16> bytes{};  // on-disk order

    static constexpr Guid from_fields(std::uint32_t d1, std::uint16_t d2, std::uint16_t d3,
                                      std::array<std::uint8_t, 8> d4) {
        Guid g;
        for (int i = 0; i < 4; ++i)
            g.bytes[static_cast<std::size_t>(i)] = static_cast<std::byte>((d1 >> (8 * i)) & 0xff);
        for (int i = 0; i < 2; ++i) {
            g.bytes[static_cast<std::size_t>(4 + i)] = static_cast<std::byte>((d2 >> (8 * i)) & 0xff);
            g.bytes[static_cast<std::size_t>(6 + i)] = static_cast<std::byte>((d3 >> (8 * i)) & 0xff);
        }
        for (std::size_t i = 0; i < 8; ++i)
            g.bytes[8 + i] = static_cast<std::byte>(d4[i]);
        return g;
    }
    static Guid load(const std::byte* p);
    void store(std::byte* p) const;
    static Guid random();
    // "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}", lower case.
    std::string to_string() const;
    // Accepts the braced or bare form, either case.
    static std::optional<Guid> parse(std::string_view text);
    bool is_zero() const { return *this == Guid{}; }
    bool operator==(const Guid&) const = default;
};

}  // namespace bootherd::imagestore
