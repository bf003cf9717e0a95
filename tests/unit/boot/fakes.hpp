#pragma once
// In-memory stand-ins for the catalog interfaces the boot services consume.
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "boot/boot_event_sink.hpp"
#include "boot/lease_store.hpp"
#include "boot/node_directory.hpp"

namespace bootherd::boot::testing {

class FakeNodeDirectory : public NodeDirectory {
  public:
    std::map<MacAddress, NodeRecord> nodes;
    std::vector<DiscoveredClient> discovered;

    std::optional<NodeRecord> find(const MacAddress& mac) const override {
        const auto it = nodes.find(mac);
        if (it == nodes.end()) return std::nullopt;
        return it->second;
    }
    bool is_fixed_address(Ipv4 address) const override {
        for (const auto& [mac, node] : nodes)
            if (node.fixed_address == address) return true;
        return false;
    }
    void record_discovered(const DiscoveredClient& client) override { discovered.push_back(client); }
};

class FakeLeaseStore : public LeaseStore {
  public:
    std::map<std::uint32_t, Lease> leases;

    std::vector<Lease> load() override {
        std::vector<Lease> all;
        for (const auto& [address, lease] : leases)
            all.push_back(lease);
        return all;
    }
    void save(const Lease& lease) override { leases[lease.address.to_uint()] = lease; }
    void erase(Ipv4 address) override { leases.erase(address.to_uint()); }
};

struct RecordedEvent {
    MacAddress mac;
    std::string step;
    std::string detail;
};

// Locked: the TFTP server records from its I/O thread while a test reads.
class FakeEventSink : public BootEventSink {
  public:
    std::vector<RecordedEvent> events;

    void record(const MacAddress& mac, std::string_view step, std::string_view detail,
                std::chrono::system_clock::time_point) override {
        const std::lock_guard lock(mutex_);
        events.push_back({mac, std::string(step), std::string(detail)});
    }
    std::size_t count() const {
        const std::lock_guard lock(mutex_);
        return events.size();
    }
    std::vector<RecordedEvent> snapshot() const {
        const std::lock_guard lock(mutex_);
        return events;
    }
    bool has(std::string_view step) const {
        const std::lock_guard lock(mutex_);
        for (const auto& event : events)
            if (event.step == step) return true;
        return false;
    }

  private:
    mutable std::mutex mutex_;
};

}  // namespace bootherd::boot::testing
