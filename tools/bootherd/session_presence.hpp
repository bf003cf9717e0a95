#pragma once
// Whether each node has an iSCSI session, recorded in the catalog (nodes.state: boots::kSessionOnline /
// kSessionOffline) so that every process reading the catalog — the CLI as well as `serve` — derives the same
// machine status from it (boots/machine_status.hpp). A node has a session when some live session is on its
// target or comes from its initiator name (which also marks a maintenance machine logged in to a draft).
// `serve`'s boot event writer records a node's presence after each of its session events and boot scripts,
// every node's when it starts listening to session events, and every node offline when it stops.
#include <set>
#include <string>
#include <vector>

#include "db/catalog.hpp"
#include "target/iscsi/server.hpp"

namespace bootherd::cli {

class SessionPresence {
  public:
    // A snapshot of the live sessions.
    explicit SessionPresence(const std::vector<iscsi::SessionInfo>& sessions);

    bool has_session(const db::Node& node) const;
    // Writes the node's state when it differs from what the snapshot says.
    void record(db::Catalog::Session& session, const db::Node& node) const;
    // Every node, in one transaction: online when it has a session, else offline.
    void record_all(db::Catalog::Session& session) const;

  private:
    std::set<std::string, std::less<>> targets_;
    std::set<std::string, std::less<>> initiators_;
};

// Every node offline (`serve` stops: nobody keeps the states up to date any more).
void record_all_offline(db::Catalog::Session& session);

}  // namespace bootherd::cli
