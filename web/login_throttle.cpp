#include "web/login_throttle.hpp"

#include <algorithm>

#include "common/ip_address.hpp"

namespace bootherd::web {
namespace {

constexpr std::size_t kUserKeyLimit = 64;  // longer names share a key: the table's memory stays bounded

std::string user_key(std::string_view user) {
    return "u:" + std::string(user.substr(0, kUserKeyLimit));
}

std::chrono::seconds lock_for(unsigned failures) {
    if (failures < LoginThrottle::kFreeFailures) return std::chrono::seconds(0);
    const unsigned doublings = std::min(failures - LoginThrottle::kFreeFailures, 16U);
    return std::min(std::chrono::seconds(1LL << doublings), LoginThrottle::kMaxLock);
}

std::chrono::seconds remaining(LoginThrottle::Clock::time_point until, LoginThrottle::Clock::time_point now) {
    // Rounded up, so a client that waits exactly Retry-After is let through.
    return std::chrono::ceil<std::chrono::seconds>(until - now);
}

}  // namespace

std::string address_key(const boost::asio::ip::address& address) {
    const auto plain = unmapped(address);
    if (plain.is_v4()) return "a:" + plain.to_string();
    auto bytes = plain.to_v6().to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return "a:" + boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

LoginThrottle::Entry* LoginThrottle::find(const std::string& key, Clock::time_point now) {
    auto found = index_.find(key);
    if (found == index_.end()) return nullptr;
    if (now - found->second->last_failure >= kForget) {
        erase(key);
        return nullptr;
    }
    return &*found->second;
}

LoginThrottle::Entry& LoginThrottle::touch(const std::string& key, Clock::time_point now) {
    if (Entry* entry = find(key, now)) {
        order_.splice(order_.begin(), order_, index_.at(key));
        return *entry;
    }
    if (index_.size() >= capacity_ && !order_.empty()) erase(order_.back().key);
    order_.push_front(Entry{.key = key});
    index_.emplace(key, order_.begin());
    return order_.front();
}

void LoginThrottle::erase(const std::string& key) {
    auto found = index_.find(key);
    if (found == index_.end()) return;
    order_.erase(found->second);
    index_.erase(found);
}

std::optional<std::chrono::seconds> LoginThrottle::retry_after(const boost::asio::ip::address& client,
                                                               std::string_view user, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    const Entry* address = find(address_key(client), now);
    if (!address) return std::nullopt;  // a clean address is never held back by others' failures
    auto until = address->locked_until;
    if (const Entry* name = find(user_key(user), now)) until = std::max(until, name->locked_until);
    if (until <= now) return std::nullopt;
    return remaining(until, now);
}

std::chrono::seconds LoginThrottle::record_failure(const boost::asio::ip::address& client,
                                                   std::string_view user, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    std::chrono::seconds longest{0};
    for (const auto& key : {address_key(client), user_key(user)}) {
        Entry& entry = touch(key, now);
        ++entry.failures;
        entry.last_failure = now;
        const auto lock_time = lock_for(entry.failures);
        if (lock_time.count() > 0) entry.locked_until = now + lock_time;
        longest = std::max(longest, lock_time);
    }
    return longest;
}

void LoginThrottle::record_success(const boost::asio::ip::address& client, std::string_view user) {
    std::lock_guard lock(mutex_);
    erase(address_key(client));
    erase(user_key(user));
}

std::size_t LoginThrottle::size() const {
    std::lock_guard lock(mutex_);
    return index_.size();
}

}  // namespace bootherd::web
