#pragma once
// The servers sharing the catalog (docs/SCALE-OUT.md) as GET /api/v1/servers lists them, and `bootherd server
// list --json` prints them: {"items":[{"name","iscsi_portal","web_url","capacity","max_booting","started_at",
// "heartbeat_at","live","homed","sessions","booting","versions":[{"image","version"}]}],"now",
// "heartbeat_timeout_s"}. A server is live while its last heartbeat is at most the timeout old, as placement
// judges it (placement/home_placer.hpp): a server that is not takes no machines.
#include <boost/json/object.hpp>
#include <cstdint>

#include "db/catalog.hpp"

namespace bootherd::web {

boost::json::object servers_json(db::Catalog::Session& session, std::int64_t now_ms,
                                 std::int64_t heartbeat_timeout_ms);

}  // namespace bootherd::web
