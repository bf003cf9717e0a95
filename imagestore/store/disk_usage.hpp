#pragma once
// Whether a running machine uses a node's disk. The store asks before a new boot replaces a non-persistent
// disk; `bootherd serve` answers from the iSCSI server's live sessions (the store itself knows no sessions).
#include "db/nodes_repo.hpp"

namespace bootherd::imagestore::store {

class DiskUsage {
  public:
    virtual ~DiskUsage() = default;
    // True while an iSCSI session is logged in to the node's target.
    virtual bool has_sessions(const db::Node& node) const = 0;
};

// What a script fetch tells about the machine. A machine's PXE firmware runs only when its OS does not: when
// it announced a new boot (a PXE exchange for its MAC since its last script), the sessions still open on its
// target are the previous boot's, abandoned at power-off and not yet timed out.
enum class BootStart {
    announced,    // the firmware announced this boot: a non-persistent disk is replaced, sessions or not
    unannounced,  // no PXE exchange: a non-persistent disk is replaced only when no session has it
};

}  // namespace bootherd::imagestore::store
