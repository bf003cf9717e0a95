#pragma once
// Whether each node has an iSCSI session, recorded in the catalog (nodes.state: boots::kSessionOnline /
// kSessionOffline) so that every process reading the catalog — the CLI as well as `serve` — derives the same
// machine status from it (boots/machine_status.hpp). A node has a session when some live session is on its
// target or comes from its initiator name (which also marks a maintenance machine logged in to a draft).
// `serve`'s boot event writer records a node's presence after each of its session events and boot scripts,
// every node's when it starts listening to session events, and every node offline when it stops.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "db/catalog.hpp"
#include "target/iscsi/server.hpp"

namespace bootherd::cli {

class SessionPresence {
  public:
    // A snapshot of the live sessions. `home_server`: with several servers, this one's id; the nodes homed
    // on another server are that server's to record, and are left alone.
    explicit SessionPresence(const std::vector<iscsi::SessionInfo>& sessions,
                             std::optional<std::int64_t> home_server = std::nullopt);

    bool has_session(const db::Node& node) const;
    // Writes the node's state when it differs from what the snapshot says.
    void record(db::Catalog::Session& session, const db::Node& node) const;
    // Every node, in one transaction: online when it has a session, else offline.
    void record_all(db::Catalog::Session& session) const;

  private:
    bool in_scope(const db::Node& node) const;  // not homed on another server
    std::set<std::string, std::less<>> targets_;
    std::set<std::string, std::less<>> initiators_;
    std::optional<std::int64_t> home_server_;
};

// Every node offline (`serve` stops: nobody keeps the states up to date any more); with `home_server`, every
// node homed there or nowhere.
void record_all_offline(db::Catalog::Session& session,
                        std::optional<std::int64_t> home_server = std::nullopt);

}  // namespace bootherd::cli
