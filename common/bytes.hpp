#pragma once
// Bounds-safe loads and stores of fixed-width integers in a chosen byte order.
// iSCSI and SCSI are big-endian on the wire; VHDX and VHD fields are little- and big-endian respectively.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>

namespace bootherd {

template <class T>
concept ByteLike =
    std::is_same_v<std::remove_const_t<T>, std::byte> ||
    std::is_same_v<std::remove_const_t<T>, std::uint8_t> || std::is_same_v < std::remove_const_t<T>,
unsigned char > ;

template <std::unsigned_integral T, ByteLike B>
constexpr T load_be(const B* p) noexcept {
    T v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
        v = static_cast<T>((v << 8) | static_cast<std::uint8_t>(p[i]));
    return v;
}

template <std::unsigned_integral T, ByteLike B>
constexpr T load_le(const B* p) noexcept {
    T v = 0;
    for (std::size_t i = sizeof(T); i-- > 0;)
        v = static_cast<T>((v << 8) | static_cast<std::uint8_t>(p[i]));
    return v;
}

template <std::unsigned_integral T, ByteLike B>
constexpr void store_be(B* p, T v) noexcept {
    for (std::size_t i = sizeof(T); i-- > 0;) {
        p[i] = static_cast<B>(v & 0xff);
        if constexpr (sizeof(T) > 1) v >>= 8;
    }
}

template <std::unsigned_integral T, ByteLike B>
constexpr void store_le(B* p, T v) noexcept {
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        p[i] = static_cast<B>(v & 0xff);
        if constexpr (sizeof(T) > 1) v >>= 8;
    }
}

// 24-bit big-endian fields (iSCSI DataSegmentLength, SCSI allocation lengths).
template <ByteLike B>
constexpr std::uint32_t load_be24(const B* p) noexcept {
    return (std::uint32_t{static_cast<std::uint8_t>(p[0])} << 16) |
           (std::uint32_t{static_cast<std::uint8_t>(p[1])} << 8) |
           std::uint32_t{static_cast<std::uint8_t>(p[2])};
}
template <ByteLike B>
constexpr void store_be24(B* p, std::uint32_t v) noexcept {
    p[0] = static_cast<B>((v >> 16) & 0xff);
    p[1] = static_cast<B>((v >> 8) & 0xff);
    p[2] = static_cast<B>(v & 0xff);
}

inline std::span<const std::byte> as_bytes(std::span<const std::uint8_t> s) noexcept {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace bootherd
