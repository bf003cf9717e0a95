#include "tools/bootherd/boot_catalog.hpp"

#include <stdexcept>

#include "common/log.hpp"
#include "db/error.hpp"

namespace bootherd::cli {
namespace {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::optional<boot::Ipv4> parse_ipv4(const std::string& text) {
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address_v4(text, ec);
    if (ec) return std::nullopt;
    return address;
}

// Names are tried in order; 100000 taken names in a row means the pattern is exhausted.
constexpr std::uint32_t max_name_attempts = 100000;

// MACs whose discovered row was written within the update interval; past this many new MACs per interval
// the sightings are not written at all.
constexpr std::size_t max_recent_discovered = 4096;

}  // namespace

BootEnroller::BootEnroller(imagestore::store::ImageStore& store, std::optional<boot::NodeNamePattern> pattern,
                           const std::string& default_group, DiscoveryLimits limits)
    : store_(store),
      pattern_(std::move(pattern)),
      limits_(limits),
      enrol_budget_(limits_.enrol_per_second, limits_.enrol_burst),
      recorded_(max_recent_discovered, limits_.update_interval) {
    if (default_group.empty()) return;
    const auto group = store_.catalog().session().groups().find_by_name(default_group);
    if (!group) throw std::invalid_argument("--default-group: group '" + default_group + "' does not exist");
    group_id_ = group->id;
}

void BootEnroller::record_discovered(const boot::MacAddress& mac, const std::string& arch,
                                     const std::string& vendor_class) {
    {
        const std::lock_guard lock(discovered_mutex_);
        const auto now = Clock::now();
        if (recorded_.contains(mac, now)) return;  // seen within the interval: coalesced
        if (!recorded_.note(mac, now)) {
            refusal_log_.warn("boot: too many unknown machines, not recording " + mac.to_string(), now);
            return;
        }
    }
    auto session = store_.catalog().session();
    auto discovered = session.discovered();
    std::string stored_arch = arch;
    std::string stored_vendor = vendor_class;
    if (arch.empty() || vendor_class.empty()) {
        if (const auto previous = discovered.find(mac.to_string())) {
            if (arch.empty()) stored_arch = previous->arch;
            if (vendor_class.empty()) stored_vendor = previous->vendor_class;
        }
    }
    const auto row = discovered.record_seen(mac.to_string(), now_ms(), stored_arch, stored_vendor);
    if (row.seen_count > 1) return;
    if (const auto dropped = discovered.trim(limits_.max_discovered); dropped > 0) {
        const std::lock_guard lock(discovered_mutex_);
        refusal_log_.warn("boot: discovered table full (" + std::to_string(limits_.max_discovered) +
                              " rows), dropped the least recently seen",
                          Clock::now());
    }
}

bool BootEnroller::may_enrol(Clock::time_point now) {
    while (!enrolled_at_.empty() && now - enrolled_at_.front() >= std::chrono::hours(1))
        enrolled_at_.pop_front();
    if (enrolled_at_.size() >= limits_.max_enrol_per_hour || !enrol_budget_.take(now)) return false;
    enrolled_at_.push_back(now);
    return true;
}

std::optional<db::Node> BootEnroller::enrol(const boot::MacAddress& mac) {
    if (!pattern_) return std::nullopt;
    const std::lock_guard lock(mutex_);
    if (auto node = store_.catalog().session().nodes().find_by_mac(mac.to_string())) return node;
    if (!may_enrol(Clock::now())) {
        const std::lock_guard log_lock(discovered_mutex_);
        refusal_log_.warn("boot: auto-enrolment rate reached, " + mac.to_string() + " waits", Clock::now());
        return std::nullopt;
    }
    for (std::uint32_t n = 1; n <= max_name_attempts; ++n) {
        const std::string name = pattern_->name(n);
        if (store_.catalog().session().nodes().find_by_name(name)) continue;
        // Creating the disk takes a moment; the catalog is not locked meanwhile.
        db::Node node;
        try {
            node = store_.add_node(db::NewNode{.name = name, .mac = mac.to_string(), .group_id = group_id_});
        } catch (const db::Conflict& e) {
            if (e.field() != "hostname") throw;
            continue;  // another machine was given this name as its host name
        }
        log::info("boot: auto-enrolled ", mac.to_string(), " as ", node.name);
        return node;
    }
    log::error("boot: cannot auto-enrol ", mac.to_string(), ": no free name left in the naming pattern");
    return std::nullopt;
}

CatalogNodeDirectory::CatalogNodeDirectory(imagestore::store::ImageStore& store, BootEnroller& enroller)
    : store_(store), enroller_(enroller) {}

std::optional<boot::NodeRecord> CatalogNodeDirectory::find(const boot::MacAddress& mac) const {
    const auto node = store_.catalog().session().nodes().find_by_mac(mac.to_string());
    if (!node) return std::nullopt;
    boot::NodeRecord record;
    record.name = node->name;
    record.enabled = node->enabled;
    if (node->fixed_ip) record.fixed_address = parse_ipv4(*node->fixed_ip);
    record.hostname = node->effective_hostname.value_or("");
    return record;
}

bool CatalogNodeDirectory::is_fixed_address(boot::Ipv4 address) const {
    const std::lock_guard lock(fixed_mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (now - fixed_read_at_ > std::chrono::seconds(1)) {
        fixed_addresses_.clear();
        auto session = store_.catalog().session();
        db::NodeFilter filter{.limit = 10000};
        for (;;) {
            const auto page = session.nodes().list(filter);
            for (const auto& node : page.nodes)
                if (node.fixed_ip)
                    if (const auto ip = parse_ipv4(*node.fixed_ip)) fixed_addresses_.insert(ip->to_uint());
            filter.offset += static_cast<std::int64_t>(page.nodes.size());
            if (page.nodes.empty() || filter.offset >= page.total) break;
        }
        fixed_read_at_ = now;
    }
    return fixed_addresses_.contains(address.to_uint());
}

void CatalogNodeDirectory::record_discovered(const boot::DiscoveredClient& client) {
    enroller_.record_discovered(client.mac, client.client_arch ? std::to_string(*client.client_arch) : "",
                                client.vendor_class);
    enroller_.enrol(client.mac);
}

std::vector<boot::Lease> CatalogLeaseStore::load() {
    std::vector<boot::Lease> leases;
    for (const auto& row : catalog_.session().leases().list()) {
        const auto mac = boot::MacAddress::parse(row.mac);
        const auto address = parse_ipv4(row.ip);
        if (!mac || !address) continue;
        leases.push_back(
            boot::Lease{*address, *mac, boot::Lease::State::bound,
                        std::chrono::system_clock::time_point(std::chrono::milliseconds(row.expires_at))});
    }
    return leases;
}

void CatalogLeaseStore::save(const boot::Lease& lease) {
    if (lease.state != boot::Lease::State::bound) return;
    auto session = catalog_.session();
    db::Transaction transaction(session.database());
    auto leases = session.leases();
    const std::string ip = lease.address.to_string();
    // The pool decided this address is free for this client: a stale row of another MAC must go.
    if (const auto holder = leases.find_by_ip(ip); holder && holder->mac != lease.mac.to_string())
        leases.remove(holder->mac);
    leases.upsert(db::Lease{
        .mac = lease.mac.to_string(),
        .ip = ip,
        .expires_at =
            std::chrono::duration_cast<std::chrono::milliseconds>(lease.expires.time_since_epoch()).count()});
    transaction.commit();
}

void CatalogLeaseStore::erase(boot::Ipv4 address) {
    auto session = catalog_.session();
    auto leases = session.leases();
    if (const auto holder = leases.find_by_ip(address.to_string())) leases.remove(holder->mac);
}

}  // namespace bootherd::cli
