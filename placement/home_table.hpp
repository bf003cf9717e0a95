#pragma once
// Where each machine is homed, as this server last read it from the catalog: the iSCSI login path asks it
// whether to redirect a login, and must not wait on the catalog to do so (nor stop working while the catalog
// is unreachable), so it reads an immutable snapshot that a background refresh replaces.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "db/catalog.hpp"

namespace bootherd::placement {

struct HomeTableSettings {
    std::int64_t self_id = 0;                    // this server's id in the servers table
    std::int64_t heartbeat_timeout_ms = 30'000;  // a home silent for longer is not redirected to
};

class HomeTable {
  public:
    explicit HomeTable(HomeTableSettings settings) : settings_(settings) {}

    // Rereads the homes from the catalog (throws what the catalog throws; the old snapshot stays).
    void refresh(db::Catalog& catalog, std::int64_t now_ms);
    // The portal ("ip:port") of the live server other than this one that homes the machine whose target
    // this is; nullopt when it is homed here, nowhere, on a dead server, or unknown: then it is served here.
    std::optional<std::string> portal_elsewhere(std::string_view target_iqn) const;
    // portal_elsewhere, checked against the catalog when the snapshot says elsewhere: the snapshot may be up
    // to a refresh old, and a machine another server has just homed here must not be sent back (initiators
    // follow redirects without a limit). One indexed read, only for logins about to be redirected; when the
    // catalog cannot be reached, the snapshot decides.
    std::optional<std::string> confirmed_portal_elsewhere(db::Catalog& catalog, std::string_view target_iqn,
                                                          std::int64_t now_ms);
    // A placement this server just made (nullopt portal: homed here), so that the machine's login, which
    // follows within a second, is routed by it before the next refresh.
    void note(std::string_view target_iqn, std::optional<std::string> portal);

  private:
    using Snapshot = std::map<std::string, std::string, std::less<>>;  // target IQN -> portal
    HomeTableSettings settings_;
    mutable std::mutex mutex_;  // guards the pointer only; a snapshot is never changed
    std::shared_ptr<const Snapshot> snapshot_ = std::make_shared<const Snapshot>();
};

}  // namespace bootherd::placement
