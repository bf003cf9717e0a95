#include "boot/address_pool.hpp"

#include <stdexcept>

namespace bootherd::boot {

AddressPool::AddressPool(Ipv4 first, Ipv4 last, LeaseStore& store, std::size_t max_unknown)
    : first_(first.to_uint()), last_(last.to_uint()), store_(store), max_unknown_(max_unknown) {
    if (first_ > last_) throw std::invalid_argument("DHCP pool: first address is above last address");
    for (const Lease& lease : store_.load()) {
        const State state = lease.state == Lease::State::bound ? State::bound : State::declined;
        entries_[lease.address.to_uint()] = Entry{lease.mac, state, lease.expires};
    }
}

bool AddressPool::contains(Ipv4 address) const {
    return address.to_uint() >= first_ && address.to_uint() <= last_;
}

std::optional<Ipv4> AddressPool::address_of(const MacAddress& mac, Clock::time_point now) const {
    std::optional<Ipv4> expired_match;
    for (const auto& [address, entry] : entries_) {
        if (entry.mac != mac || entry.state == State::declined) continue;
        if (entry.expires > now) return Ipv4(address);
        if (!expired_match) expired_match = Ipv4(address);
    }
    return expired_match;
}

bool AddressPool::available_to(Ipv4 address, const MacAddress& mac, Holder holder,
                               Clock::time_point now) const {
    if (!contains(address)) return false;
    const auto it = entries_.find(address.to_uint());
    if (it != entries_.end() && !entry_free_for(it->second, mac, holder, now)) return false;
    if (it != entries_.end() && it->second.expires > now) return true;  // the client's own, already counted
    return holder == Holder::enrolled || unknown_may_take(mac, now);
}

std::optional<Ipv4> AddressPool::find_free(const MacAddress& mac, Holder holder, Clock::time_point now,
                                           const std::function<bool(Ipv4)>& reserved) const {
    if (holder == Holder::unknown && !unknown_may_take(mac, now)) return std::nullopt;
    // Never-used addresses first, so an expired lease stays available to its old owner as long as possible.
    std::optional<Ipv4> expired_candidate;
    for (std::uint64_t value = first_; value <= last_; ++value) {
        const Ipv4 address(static_cast<std::uint32_t>(value));
        if (reserved(address)) continue;
        const auto it = entries_.find(address.to_uint());
        if (it == entries_.end()) return address;
        if (!expired_candidate && entry_free_for(it->second, mac, holder, now)) expired_candidate = address;
    }
    return expired_candidate;
}

bool AddressPool::entry_free_for(const Entry& entry, const MacAddress& mac, Holder holder,
                                 Clock::time_point now) const {
    const bool own = entry.mac == mac && entry.state != State::declined;
    if (entry.expires > now) return own;
    // An enrolled machine's expired lease waits for it; unknown clients never get that address.
    return own || holder == Holder::enrolled || entry.holder == Holder::unknown ||
           entry.state == State::declined;
}

bool AddressPool::unknown_may_take(const MacAddress& mac, Clock::time_point now) const {
    std::size_t held = 0;
    for (const auto& [address, entry] : entries_) {
        if (entry.expires <= now || entry.holder != Holder::unknown) continue;
        if (entry.mac == mac && entry.state != State::declined) return true;  // moving within its share
        ++held;
    }
    return held < max_unknown_;
}

std::size_t AddressPool::unknown_held(Clock::time_point now) const {
    std::size_t held = 0;
    for (const auto& [address, entry] : entries_)
        if (entry.expires > now && entry.holder == Holder::unknown) ++held;
    return held;
}

bool AddressPool::is_held_by(Ipv4 address, const MacAddress& mac, Clock::time_point now) const {
    const auto it = entries_.find(address.to_uint());
    return it != entries_.end() && it->second.state != State::declined && it->second.mac == mac &&
           it->second.expires > now;
}

bool AddressPool::is_bound_to(Ipv4 address, const MacAddress& mac, Clock::time_point now) const {
    const auto it = entries_.find(address.to_uint());
    return it != entries_.end() && it->second.state == State::bound && it->second.mac == mac &&
           it->second.expires > now;
}

void AddressPool::offer(Ipv4 address, const MacAddress& mac, Holder holder, Clock::time_point until) {
    auto& entry = entries_[address.to_uint()];
    // An offer must not shorten a binding the client already holds on this address.
    if (entry.state == State::bound && entry.mac == mac && entry.expires > until) return;
    entry = Entry{mac, State::offered, until, holder};
}

void AddressPool::bind(Ipv4 address, const MacAddress& mac, Holder holder, Clock::time_point until) {
    for (auto it = entries_.begin(); it != entries_.end();) {
        // One address per client: a client moving to a new address frees its old one.
        if (it->first != address.to_uint() && it->second.mac == mac && it->second.state != State::declined) {
            if (it->second.state == State::bound) store_.erase(Ipv4(it->first));
            it = entries_.erase(it);
        } else {
            ++it;
        }
    }
    entries_[address.to_uint()] = Entry{mac, State::bound, until, holder};
    store_.save(Lease{address, mac, Lease::State::bound, until});
}

void AddressPool::release(const MacAddress& mac) {
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (it->second.mac == mac && it->second.state != State::declined) {
            if (it->second.state == State::bound) store_.erase(Ipv4(it->first));
            it = entries_.erase(it);
        } else {
            ++it;
        }
    }
}

void AddressPool::decline(Ipv4 address, const MacAddress& reporter, Holder holder, Clock::time_point until) {
    entries_[address.to_uint()] = Entry{reporter, State::declined, until, holder};
    store_.save(Lease{address, reporter, Lease::State::declined, until});
}

}  // namespace bootherd::boot
