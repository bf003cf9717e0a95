#pragma once
// Persistence of DHCP leases (full mode), implemented by the catalog. Only bound leases and declined
// addresses are persisted; offers live in memory for a few seconds and are not worth a write.
#include <chrono>
#include <vector>

#include "boot/dhcp_packet.hpp"
#include "boot/mac_address.hpp"

namespace bootherd::boot {

struct Lease {
    enum class State { bound, declined };
    Ipv4 address;
    MacAddress mac;  // for declined addresses: the client that reported the conflict
    State state = State::bound;
    std::chrono::system_clock::time_point expires;

    bool operator==(const Lease&) const = default;
};

class LeaseStore {
  public:
    virtual ~LeaseStore() = default;
    virtual std::vector<Lease> load() = 0;
    // Inserts or replaces the lease for lease.address.
    virtual void save(const Lease& lease) = 0;
    virtual void erase(Ipv4 address) = 0;
};

}  // namespace bootherd::boot
