#pragma once
// Read access to an image's bytes for the parsers: a file on disk or, for the fuzzer, an image in memory.
#include <cstddef>
#include <cstdint>
#include <span>

namespace bootherd::imagestore {

class ByteSource {
  public:
    virtual ~ByteSource() = default;
    virtual std::uint64_t size() const = 0;
    // Fills `out` completely from `offset`; throws (FormatError, or ImageError naming the file) when the
    // range lies past the end.
    virtual void read_exact(std::uint64_t offset, std::span<std::byte> out) const = 0;
};

}  // namespace bootherd::imagestore
