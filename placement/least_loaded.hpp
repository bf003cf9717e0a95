#pragma once
// The least-loaded rule (as Citrix Provisioning balances its streaming servers): among the servers that may
// take a machine, the one with the fewest active machines per unit of capacity.
#include <cstdint>
#include <optional>
#include <span>

namespace bootherd::placement {

struct ServerLoad {
    std::int64_t server_id = 0;
    std::int64_t capacity = 1;     // weight: a server of capacity 200 takes twice the machines of one of 100
    std::int64_t max_booting = 0;  // cap on machines booting on it at once; 0: none
    std::int64_t active = 0;       // machines homed on it that are up or booting
    std::int64_t booting = 0;      // of those, still booting
    bool alive = false;            // heartbeat recent enough
    bool holds_version = false;    // holds a verified copy of the version the machine boots
};

// The server to home a machine on: alive, holding the version, below its booting cap, with the lowest
// active/capacity; ties go to fewer booting, then to the lower id (stable). nullopt when none qualifies.
std::optional<std::int64_t> least_loaded(std::span<const ServerLoad> servers);

}  // namespace bootherd::placement
