#include "boot/node_naming.hpp"

#include <stdexcept>

namespace bootherd::boot {

NodeNamePattern::NodeNamePattern(std::string_view pattern) {
    const auto fail = [&](const char* why) {
        return std::invalid_argument("naming pattern '" + std::string(pattern) + "': " + why);
    };
    const auto open = pattern.find('{');
    if (open == std::string_view::npos) throw fail("needs a {n} or {n:0W} placeholder");
    const auto close = pattern.find('}', open);
    if (close == std::string_view::npos) throw fail("unterminated placeholder");
    const std::string_view field = pattern.substr(open + 1, close - open - 1);
    if (field.size() == 4 && field.substr(0, 3) == "n:0" && field[3] >= '1' && field[3] <= '9')
        width_ = field[3] - '0';
    else if (field != "n")
        throw fail("the placeholder must be {n} or {n:0W} with W from 1 to 9");
    prefix_ = pattern.substr(0, open);
    suffix_ = pattern.substr(close + 1);
    if (prefix_.find_first_of("{}") != std::string::npos || suffix_.find_first_of("{}") != std::string::npos)
        throw fail("only one placeholder is allowed");
}

std::string NodeNamePattern::name(std::uint32_t n) const {
    std::string digits = std::to_string(n);
    if (digits.size() < static_cast<std::size_t>(width_))
        digits.insert(0, static_cast<std::size_t>(width_) - digits.size(), '0');
    return prefix_ + digits + suffix_;
}

}  // namespace bootherd::boot
