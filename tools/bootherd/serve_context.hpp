#pragma once
// What the services of `bootherd serve` (iSCSI, boot services, web) share: the image store with its catalog,
// the running iSCSI server (live sessions, counters), the portals nodes log in to and, with several servers,
// this server's membership.
#include <boost/asio/ip/tcp.hpp>
#include <vector>

#include "imagestore/store/image_store.hpp"
#include "target/iscsi/server.hpp"

namespace bootherd::cli {

class ClusterService;

struct ServeContext {
    imagestore::store::ImageStore& store;
    iscsi::Server& iscsi;
    std::vector<boost::asio::ip::tcp::endpoint> iscsi_portals;
    ClusterService* cluster = nullptr;  // one of several servers on the catalog (--server-name); else null
};

}  // namespace bootherd::cli
