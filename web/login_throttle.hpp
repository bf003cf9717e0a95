#pragma once
// Back-off for password guessing: failed logins are counted per client address (IPv6 per /64) and per user
// name. After kFreeFailures failures a key is locked for 1 s, doubling with each further failure up to
// kMaxLock. A user's lock only holds back addresses that have failed themselves, so an attacker cannot lock
// the admin out of a clean address. The table is bounded: the least recently failed key goes first.
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace bootherd::web {

class LoginThrottle {
  public:
    using Clock = std::chrono::steady_clock;
    static constexpr unsigned kFreeFailures = 5;
    static constexpr std::chrono::seconds kMaxLock{300};
    static constexpr std::chrono::minutes kForget{15};  // a key without failures for this long starts over
    static constexpr std::size_t kDefaultCapacity = 10000;

    explicit LoginThrottle(std::size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

    // How long this client must wait before its attempt is even checked; nullopt: go ahead.
    std::optional<std::chrono::seconds> retry_after(const boost::asio::ip::address& client,
                                                    std::string_view user, Clock::time_point now);
    // Returns the lock the failure started (zero when none).
    std::chrono::seconds record_failure(const boost::asio::ip::address& client, std::string_view user,
                                        Clock::time_point now);
    void record_success(const boost::asio::ip::address& client, std::string_view user);

    std::size_t size() const;

  private:
    struct Entry {
        std::string key;
        unsigned failures = 0;
        Clock::time_point last_failure{};
        Clock::time_point locked_until{};
    };
    using List = std::list<Entry>;  // most recently failed first

    Entry* find(const std::string& key, Clock::time_point now);
    Entry& touch(const std::string& key, Clock::time_point now);
    void erase(const std::string& key);

    std::size_t capacity_;
    mutable std::mutex mutex_;
    List order_;
    std::unordered_map<std::string, List::iterator> index_;
};

// The throttle's key for an address: IPv4 (also when mapped into IPv6) as is, IPv6 by its /64.
std::string address_key(const boost::asio::ip::address& address);

}  // namespace bootherd::web
