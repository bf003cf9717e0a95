#pragma once
// The nodes as this server last read them from the catalog, kept in memory so that the data path never
// waits on the catalog: while the catalog cannot be reached (db::CatalogUnavailable, a PostgreSQL catalog
// that is down), logins to node targets and the boot scripts of machines homed here are answered from it
// (imagestore::store::CatalogTargets, the boot service). It is filled by every read of a node on those paths
// and wholesale by load(), at start and, with several servers, every few seconds. Bounded by the catalog's
// nodes; thread-safe.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "db/catalog.hpp"
#include "db/nodes_repo.hpp"

namespace bootherd::db {

class NodeSnapshot {
  public:
    // Replaces what was known of this node (by id).
    void remember(const Node& node);
    // Every node in the catalog, replacing the whole snapshot. Throws what the catalog throws, leaving the
    // snapshot as it was.
    void load(Catalog& catalog);

    std::optional<Node> by_iqn(std::string_view iqn) const;
    std::optional<Node> by_mac(std::string_view mac) const;  // normalized (aa:bb:cc:dd:ee:ff)
    std::vector<Node> enabled() const;
    std::size_t size() const;

  private:
    std::optional<Node> find(const std::function<bool(const Node&)>& match) const;

    mutable std::mutex mutex_;
    // Lookups by IQN or MAC are linear: they happen only while the catalog is unreachable.
    std::map<std::int64_t, Node> nodes_;
};

}  // namespace bootherd::db
