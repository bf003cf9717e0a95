#pragma once
// The dynamic address range of full DHCP mode: who holds which address (offered, bound, declined) and until
// when. Bound leases and declined addresses are written through to the LeaseStore; offers stay in memory.
// Machines that are not enrolled (discovery, auto-enrolment) may hold only a bounded number of addresses
// and never one an enrolled machine held, so a flood of strangers cannot starve enrolled machines.
// Pure bookkeeping: the caller passes the current time.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>

#include "boot/lease_store.hpp"

namespace bootherd::boot {

// Who asks for an address. Persisted leases load as enrolled: the store does not know.
enum class Holder { enrolled, unknown };

class AddressPool {
  public:
    using Clock = std::chrono::system_clock;

    // Loads the persisted leases. `max_unknown`: how many addresses unknown clients may hold at once
    // (offered, bound or declined by them). Throws std::invalid_argument if first > last.
    AddressPool(Ipv4 first, Ipv4 last, LeaseStore& store, std::size_t max_unknown);

    bool contains(Ipv4 address) const;
    // The address this client holds or most recently held (even expired), if nobody else took it since.
    std::optional<Ipv4> address_of(const MacAddress& mac, Clock::time_point now) const;
    // True when the client may use `address` now: inside the pool, not declined, not held by another client;
    // for an unknown client also never held by an enrolled one, and within the unknown clients' share.
    bool available_to(Ipv4 address, const MacAddress& mac, Holder holder, Clock::time_point now) const;
    // The lowest free address for which `reserved` is false.
    std::optional<Ipv4> find_free(const MacAddress& mac, Holder holder, Clock::time_point now,
                                  const std::function<bool(Ipv4)>& reserved) const;
    // True when `address` is bound (unexpired) to this client.
    bool is_bound_to(Ipv4 address, const MacAddress& mac, Clock::time_point now) const;
    // True when `address` is offered or bound (unexpired) to this client.
    bool is_held_by(Ipv4 address, const MacAddress& mac, Clock::time_point now) const;
    // Unexpired entries of unknown clients.
    std::size_t unknown_held(Clock::time_point now) const;

    void offer(Ipv4 address, const MacAddress& mac, Holder holder, Clock::time_point until);
    void bind(Ipv4 address, const MacAddress& mac, Holder holder, Clock::time_point until);
    // Forgets every offer or binding of this client (RELEASE, or a client that chose another server).
    void release(const MacAddress& mac);
    void decline(Ipv4 address, const MacAddress& reporter, Holder holder, Clock::time_point until);

  private:
    enum class State { offered, bound, declined };
    struct Entry {
        MacAddress mac;
        State state;
        Clock::time_point expires;
        Holder holder = Holder::enrolled;
    };

    // Whether the client may take the address of `entry` (the unknown clients' share aside).
    bool entry_free_for(const Entry& entry, const MacAddress& mac, Holder holder,
                        Clock::time_point now) const;
    // True when an unknown client may take an address: it holds one already, or the share has room.
    bool unknown_may_take(const MacAddress& mac, Clock::time_point now) const;

    std::uint32_t first_;
    std::uint32_t last_;
    LeaseStore& store_;
    std::size_t max_unknown_;
    std::map<std::uint32_t, Entry> entries_;  // by address; expired entries linger until reused
};

}  // namespace bootherd::boot
