#include "target/scsi/unit_attention.hpp"

#include <algorithm>

namespace bootherd::scsi {
namespace {
// SAM-5 allows a logical unit to lose conditions when it has too many queued; keep the first ones.
constexpr std::size_t kMaxQueued = 16;
}  // namespace

void UnitAttentions::push(NexusQueue& q, Asc code) {
    if (std::find(q.queue.begin(), q.queue.end(), code) != q.queue.end()) return;
    if (q.queue.size() < kMaxQueued) q.queue.push_back(code);
}

void UnitAttentions::attach(std::uint64_t nexus_id, const std::string& initiator_port) {
    std::lock_guard lock(mutex_);
    auto& q = nexuses_[nexus_id];
    q.initiator_port = initiator_port;
    q.queue.clear();
    push(q, asc::power_on_reset);
}

void UnitAttentions::detach(std::uint64_t nexus_id) {
    std::lock_guard lock(mutex_);
    nexuses_.erase(nexus_id);
}

void UnitAttentions::establish_all(Asc code, std::optional<std::uint64_t> except) {
    std::lock_guard lock(mutex_);
    for (auto& [id, q] : nexuses_) {
        if (except && *except == id) continue;
        push(q, code);
    }
}

void UnitAttentions::establish(std::uint64_t nexus_id, Asc code) {
    std::lock_guard lock(mutex_);
    if (auto it = nexuses_.find(nexus_id); it != nexuses_.end()) push(it->second, code);
}

void UnitAttentions::establish_for_port(const std::string& initiator_port, Asc code) {
    std::lock_guard lock(mutex_);
    for (auto& [id, q] : nexuses_) {
        if (q.initiator_port == initiator_port) push(q, code);
    }
}

std::optional<Asc> UnitAttentions::take(std::uint64_t nexus_id) {
    std::lock_guard lock(mutex_);
    auto it = nexuses_.find(nexus_id);
    if (it == nexuses_.end() || it->second.queue.empty()) return std::nullopt;
    Asc code = it->second.queue.front();
    it->second.queue.erase(it->second.queue.begin());
    return code;
}

}  // namespace bootherd::scsi
