#pragma once
// What the services of `bootherd serve` (iSCSI, boot services, web) share: the image store with its catalog,
// the running iSCSI server (live sessions, counters), the portals nodes log in to, the nodes as last read
// and, with several servers, this server's membership.
#include <boost/asio/ip/tcp.hpp>
#include <vector>

#include "db/node_snapshot.hpp"
#include "imagestore/store/image_store.hpp"
#include "target/iscsi/server.hpp"

namespace bootherd::cli {

class ClusterService;

struct ServeContext {
    imagestore::store::ImageStore& store;
    iscsi::Server& iscsi;
    std::vector<boost::asio::ip::tcp::endpoint> iscsi_portals;
    db::NodeSnapshot& known_nodes;      // the nodes as last read, for when the catalog cannot be reached
    ClusterService* cluster = nullptr;  // one of several servers on the catalog (--server-name); else null
};

}  // namespace bootherd::cli
