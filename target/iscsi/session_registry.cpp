#include "target/iscsi/session_registry.hpp"

#include <algorithm>

#include "target/iscsi/connection.hpp"

namespace bootherd::iscsi {

SessionRegistry::Admission SessionRegistry::add(const std::shared_ptr<Connection>& connection,
                                                std::size_t max_connections, std::size_t max_per_address) {
    Admission admission;
    const auto& address = connection->peer_address();
    const std::lock_guard lock(mutex_);
    std::erase_if(entries_, [](const Entry& e) { return e.connection.expired(); });
    const auto from_address = static_cast<std::size_t>(std::count_if(
        entries_.begin(), entries_.end(), [&](const Entry& e) { return e.address == address; }));
    // A connection that has not logged in yet is the cheapest to lose: an initiator whose login was cut
    // retries, and a flood of idle sockets must not lock out the next real login from its own address.
    if (from_address >= max_per_address) {
        admission.evicted = evict_oldest_in_login_locked(&address);
        if (!admission.evicted) return admission;
    } else if (entries_.size() >= max_connections) {
        admission.evicted = evict_oldest_in_login_locked(nullptr);
        if (!admission.evicted) return admission;
    }
    entries_.push_back(Entry{connection, connection.get(), address, {}, {}, 0, 0});
    admission.admitted = true;
    return admission;
}

void SessionRegistry::remove(const Connection* connection) {
    const std::lock_guard lock(mutex_);
    std::erase_if(entries_, [&](const Entry& e) { return e.raw == connection || e.connection.expired(); });
}

std::shared_ptr<Connection> SessionRegistry::evict_oldest_in_login() {
    const std::lock_guard lock(mutex_);
    return evict_oldest_in_login_locked(nullptr);
}

std::shared_ptr<Connection> SessionRegistry::evict_oldest_in_login_locked(
    const boost::asio::ip::address* from) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (from && it->address != *from) continue;
        auto strong = it->connection.lock();
        if (!strong || strong->in_full_feature() || !it->target.empty()) continue;
        entries_.erase(it);
        return strong;
    }
    return nullptr;
}

SessionRegistry::SessionClaim SessionRegistry::claim_session(const Connection& connection,
                                                             const std::string& target,
                                                             const std::string& initiator, std::uint64_t isid,
                                                             std::size_t max_per_target) {
    SessionClaim claim;
    const std::lock_guard lock(mutex_);
    Entry* self = nullptr;
    Entry* oldest_same_address = nullptr;
    std::size_t holders = 0;
    for (Entry& e : entries_) {
        if (e.raw == &connection) self = &e;
        if (e.raw == &connection || e.target != target) continue;
        auto strong = e.connection.lock();
        if (!strong) continue;
        if (e.initiator == initiator && e.isid == isid) {  // reinstatement: this login replaces it
            e.target.clear();
            claim.reinstated.push_back(std::move(strong));
            continue;
        }
        ++holders;
        if (e.address == connection.peer_address() &&
            (!oldest_same_address || e.claimed_at < oldest_same_address->claimed_at))
            oldest_same_address = &e;
    }
    if (!self) return claim;  // closed meanwhile
    if (max_per_target != 0 && holders >= max_per_target) {
        // The machine at this address rebooted (its old sessions linger until a timeout): its new login
        // takes the place of its oldest one. Another machine's login would take a place that is not free.
        if (!oldest_same_address) return claim;
        oldest_same_address->target.clear();
        claim.displaced = oldest_same_address->connection.lock();
    }
    self->target = target;
    self->initiator = initiator;
    self->isid = isid;
    self->claimed_at = next_claim_++;
    claim.admitted = true;
    return claim;
}

std::vector<std::shared_ptr<Connection>> SessionRegistry::of_target(const std::string& target,
                                                                    const Connection* except) const {
    std::vector<std::shared_ptr<Connection>> found;
    if (target.empty()) return found;
    for (auto& c : all()) {
        if (c.get() != except && c->in_full_feature() && c->target_iqn() == target)
            found.push_back(std::move(c));
    }
    return found;
}

std::vector<std::shared_ptr<Connection>> SessionRegistry::all() const {
    std::vector<std::shared_ptr<Connection>> live;
    const std::lock_guard lock(mutex_);
    live.reserve(entries_.size());
    for (const auto& e : entries_) {
        if (auto strong = e.connection.lock()) live.push_back(std::move(strong));
    }
    return live;
}

std::size_t SessionRegistry::size() const {
    const std::lock_guard lock(mutex_);
    return entries_.size();
}

}  // namespace bootherd::iscsi
