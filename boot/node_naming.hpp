#pragma once
// Names for automatically enrolled machines, from a pattern such as "node-{n:03}": "{n}" is the decimal
// number, "{n:0W}" the number zero-padded to W digits (1-9). Exactly one placeholder; everything else is
// kept.
#include <cstdint>
#include <string>
#include <string_view>

namespace bootherd::boot {

class NodeNamePattern {
  public:
    // Throws std::invalid_argument for a pattern without exactly one well-formed placeholder.
    explicit NodeNamePattern(std::string_view pattern);
    std::string name(std::uint32_t n) const;

  private:
    std::string prefix_;
    std::string suffix_;
    int width_ = 0;
};

}  // namespace bootherd::boot
