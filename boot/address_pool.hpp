#pragma once
// The dynamic address range of full DHCP mode: who holds which address (offered, bound, declined) and until
// when. Bound leases and declined addresses are written through to the LeaseStore; offers stay in memory.
// Pure bookkeeping: the caller passes the current time.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>

#include "boot/lease_store.hpp"

namespace bootherd::boot {

class AddressPool {
  public:
    using Clock = std::chrono::system_clock;

    // Loads the persisted leases. Throws std::invalid_argument if first > last.
    AddressPool(Ipv4 first, Ipv4 last, LeaseStore& store);

    bool contains(Ipv4 address) const;
    // The address this client holds or most recently held (even expired), if nobody else took it since.
    std::optional<Ipv4> address_of(const MacAddress& mac, Clock::time_point now) const;
    // True when the client may use `address` now: inside the pool, not declined, not held by another client.
    bool available_to(Ipv4 address, const MacAddress& mac, Clock::time_point now) const;
    // The lowest free address for which `reserved` is false.
    std::optional<Ipv4> find_free(const MacAddress& mac, Clock::time_point now,
                                  const std::function<bool(Ipv4)>& reserved) const;
    // True when `address` is bound (unexpired) to this client.
    bool is_bound_to(Ipv4 address, const MacAddress& mac, Clock::time_point now) const;

    void offer(Ipv4 address, const MacAddress& mac, Clock::time_point until);
    void bind(Ipv4 address, const MacAddress& mac, Clock::time_point until);
    // Forgets every offer or binding of this client (RELEASE, or a client that chose another server).
    void release(const MacAddress& mac);
    void decline(Ipv4 address, const MacAddress& reporter, Clock::time_point until);

  private:
    enum class State { offered, bound, declined };
    struct Entry {
        MacAddress mac;
        State state;
        Clock::time_point expires;
    };

    std::uint32_t first_;
    std::uint32_t last_;
    LeaseStore& store_;
    std::map<std::uint32_t, Entry> entries_;  // by address; expired entries linger until reused
};

}  // namespace bootherd::boot
