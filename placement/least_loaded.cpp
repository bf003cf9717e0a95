#include "placement/least_loaded.hpp"

#include <tuple>

namespace bootherd::placement {
namespace {

bool eligible(const ServerLoad& s) {
    return s.alive && s.holds_version && s.capacity >= 1 && (s.max_booting == 0 || s.booting < s.max_booting);
}

// a.active / a.capacity < b.active / b.capacity, in integers (capacities and counts are far below 2^31).
bool lighter(const ServerLoad& a, const ServerLoad& b) {
    const auto left = a.active * b.capacity;
    const auto right = b.active * a.capacity;
    return std::tie(left, a.booting, a.server_id) < std::tie(right, b.booting, b.server_id);
}

}  // namespace

std::optional<std::int64_t> least_loaded(std::span<const ServerLoad> servers) {
    const ServerLoad* best = nullptr;
    for (const auto& server : servers) {
        if (eligible(server) && (best == nullptr || lighter(server, *best))) best = &server;
    }
    if (best == nullptr) return std::nullopt;
    return best->server_id;
}

}  // namespace bootherd::placement
