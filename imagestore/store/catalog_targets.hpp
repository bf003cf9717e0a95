#pragma once
// The iSCSI targets `bootherd serve` exposes, read from the catalog:
//
//   - every enabled node's disk as target <node IQN> (iqn.2026-11.org.bootherd:node.<name>), LUN 0, open only
//     to the initiator named node_initiator_iqn(node) = "<node IQN>:initiator", authenticating with the
//     node's CHAP user and secret. The boot script (iPXE `initiator-iqn`, then the OS's iBFT) must use that
//     name. A node with address binding on (the default) admits logins only from its boot address (where its
//     script was served), and none before a script was served to it;
//   - each image's draft as target iqn.2026-11.org.bootherd:draft.<image>, LUN 0, for a maintenance machine,
//     with CHAP and the draft's own credentials (made by `image edit`, see ImageStore::edit). While the draft
//     has a maintenance machine (ImageStore::maintain) only that node's initiator name is admitted, and when
//     the node binds only from its boot address (none before its script was served); without one, any
//     initiator name (an administrator's tools).
//
// Disks are opened on first login (find), not for discovery (all), so SendTargets over 1000 nodes opens
// nothing. Each open chain (its TargetDevice) is kept and shared by all sessions to that target, while the
// target's description (credentials, boot address) is read afresh at every login; when a node's disk path
// changes in the catalog (reset, or a fresh disk at a new boot) the next login opens the new disk while
// sessions on the old one keep it until they end. Parents come from the store's shared layer registry.
//
// A draft is kept open only while sessions use it: when the maintenance machine logs out, the draft is closed
// (releasing its write lock), so `image commit` and `image discard` can proceed while the server runs.
//
// Every node read here is remembered in a db::NodeSnapshot. While the catalog cannot be reached, a node's
// login is admitted from what the snapshot holds (same credentials, boot address and disk), so machines
// booted or homed here keep logging in; nothing is created then (no first disk, no draft).
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/rate_limited_log.hpp"
#include "db/node_snapshot.hpp"
#include "db/nodes_repo.hpp"
#include "imagestore/store/image_store.hpp"
#include "target/iscsi/target_directory.hpp"

namespace bootherd::imagestore::store {

std::string node_initiator_iqn(const db::Node& node);
// The address a bound node's logins must come from: its boot address, unspecified (nobody) when it has none.
boost::asio::ip::address bound_address(const db::Node& node);
std::string draft_iqn(std::string_view image_name);

class CatalogTargets final : public iscsi::TargetDirectory {
  public:
    // `known` must outlive the targets.
    CatalogTargets(ImageStore& store, db::NodeSnapshot& known);

    // Opens the target's disk (creating a node's disk on first boot); null when unknown or disabled.
    std::shared_ptr<const iscsi::TargetNode> find(std::string_view iqn) const override;
    // Every target, for discovery; device is set only for targets already open.
    std::vector<std::shared_ptr<const iscsi::TargetNode>> all() const override;

  private:
    struct OpenTarget {
        std::string path;
        std::weak_ptr<scsi::TargetDevice> device;
        std::shared_ptr<scsi::TargetDevice> kept;  // node disks stay open between sessions; drafts do not
    };
    iscsi::TargetNode describe_node(const db::Node& node) const;
    std::optional<iscsi::TargetNode> describe_draft(db::Catalog::Session& session,
                                                    std::string_view image_name,
                                                    const db::Version& draft) const;
    // `target` with the cached device for its IQN if that serves `relative_path` and is open, else with its
    // disk opened read-write and cached (kept open between sessions only with keep_open).
    std::shared_ptr<const iscsi::TargetNode> open_cached(iscsi::TargetNode target,
                                                         const std::string& relative_path,
                                                         bool keep_open) const;
    std::shared_ptr<const iscsi::TargetNode> find_node(std::string_view iqn) const;
    // The node's target as the snapshot knows it, for a login while the catalog is unreachable.
    std::shared_ptr<const iscsi::TargetNode> find_known_node(std::string_view iqn) const;
    // A node that may log in now: enabled, and with a boot address when it is bound to one.
    static bool admits_logins(const db::Node& node);
    void log_outage(const std::string& line) const;
    std::shared_ptr<const iscsi::TargetNode> find_draft(std::string_view iqn) const;

    ImageStore& store_;
    db::NodeSnapshot& known_;
    mutable std::mutex mutex_;
    mutable std::map<std::string, OpenTarget, std::less<>> open_;     // by IQN
    mutable RateLimitedLog outage_log_{5, std::chrono::seconds(10)};  // under mutex_: logins in an outage
};

}  // namespace bootherd::imagestore::store
