#pragma once
// The boot services' view of the catalog: the NodeDirectory and LeaseStore the DHCP engine uses, and the
// enrolment of machines nobody enrolled yet (discovery, auto-enrolment). Every call takes a short catalog
// session; all of them are safe from any thread.
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "boot/lease_store.hpp"
#include "boot/node_directory.hpp"
#include "boot/node_naming.hpp"
#include "boot/recent_macs.hpp"
#include "boot/token_bucket.hpp"
#include "common/rate_limited_log.hpp"
#include "db/nodes_repo.hpp"
#include "imagestore/store/image_store.hpp"

namespace bootherd::cli {

// Bounds on what machines nobody enrolled can make the catalog hold.
struct DiscoveryLimits {
    std::chrono::seconds update_interval{60};  // a MAC's discovered row is written at most this often
    std::int64_t max_discovered = 1000;        // rows kept; the least recently seen go first
    double enrol_per_second = 2;               // auto-enrolments (token bucket)...
    double enrol_burst = 10;
    std::size_t max_enrol_per_hour = 200;  // ...and at most this many in any hour
};

// Records PXE clients that are not enrolled and, with a naming pattern, enrols them at once.
class BootEnroller {
  public:
    // `default_group`: group name for auto-enrolled machines (must exist), empty for none. Throws
    // std::invalid_argument for a bad pattern or an unknown group.
    BootEnroller(imagestore::store::ImageStore& store, std::optional<boot::NodeNamePattern> pattern,
                 const std::string& default_group, DiscoveryLimits limits);

    bool auto_enrols() const { return pattern_.has_value(); }
    // Notes the client in the discovered table (at most once per update interval per MAC, the table capped).
    // `arch`/`vendor_class` empty keep what was recorded before.
    void record_discovered(const boot::MacAddress& mac, const std::string& arch,
                           const std::string& vendor_class);
    // With auto-enrolment on: the node for `mac`, enrolled now under the first free name if it was not yet
    // and the enrolment rate allows it (nullopt otherwise: the machine waits and asks again).
    std::optional<db::Node> enrol(const boot::MacAddress& mac);

  private:
    using Clock = std::chrono::steady_clock;
    bool may_enrol(Clock::time_point now);

    imagestore::store::ImageStore& store_;
    std::optional<boot::NodeNamePattern> pattern_;
    std::optional<std::int64_t> group_id_;
    DiscoveryLimits limits_;
    std::mutex mutex_;  // one enrolment at a time: two threads must not enrol one MAC twice
    boot::TokenBucket<Clock> enrol_budget_;      // under mutex_
    std::deque<Clock::time_point> enrolled_at_;  // under mutex_: enrolments of the last hour
    std::mutex discovered_mutex_;
    boot::RecentMacs<Clock> recorded_;                         // under discovered_mutex_
    RateLimitedLog refusal_log_{5, std::chrono::seconds(60)};  // under discovered_mutex_
};

class CatalogNodeDirectory final : public boot::NodeDirectory {
  public:
    CatalogNodeDirectory(imagestore::store::ImageStore& store, BootEnroller& enroller);

    std::optional<boot::NodeRecord> find(const boot::MacAddress& mac) const override;
    bool is_fixed_address(boot::Ipv4 address) const override;
    void record_discovered(const boot::DiscoveredClient& client) override;

  private:
    imagestore::store::ImageStore& store_;
    BootEnroller& enroller_;
    // The pool asks about many addresses in a row: the fixed addresses are read once per second at most.
    mutable std::mutex fixed_mutex_;
    mutable std::set<std::uint32_t> fixed_addresses_;
    mutable std::chrono::steady_clock::time_point fixed_read_at_{};
};

// Bound leases in the catalog's leases table (one lease per MAC there). Declined addresses have no place in
// that table: they are kept in memory only, by the address pool, and forgotten on restart.
class CatalogLeaseStore final : public boot::LeaseStore {
  public:
    explicit CatalogLeaseStore(db::Catalog& catalog) : catalog_(catalog) {}

    std::vector<boot::Lease> load() override;
    void save(const boot::Lease& lease) override;
    void erase(boot::Ipv4 address) override;

  private:
    db::Catalog& catalog_;
};

}  // namespace bootherd::cli
