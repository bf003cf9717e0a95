#pragma once
// UTF-8 <-> UTF-16 conversion for the strings stored in VHDX parent locators (LE) and VHD headers (BE).
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace bootherd::imagestore {

enum class Utf16Order { little, big };

// Returns nullopt for an odd length or an unpaired surrogate.
std::optional<std::string> utf16_to_utf8(std::span<const std::byte> bytes, Utf16Order order);
std::vector<std::byte> utf8_to_utf16le(const std::string& text);

}  // namespace bootherd::imagestore
