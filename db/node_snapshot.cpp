#include "db/node_snapshot.hpp"

#include <algorithm>

namespace bootherd::db {

void NodeSnapshot::remember(const Node& node) {
    const std::lock_guard lock(mutex_);
    nodes_.insert_or_assign(node.id, node);
}

void NodeSnapshot::load(Catalog& catalog) {
    std::map<std::int64_t, Node> loaded;
    {
        auto session = catalog.session();
        NodeFilter filter{.limit = 10000};
        while (true) {
            auto page = session.nodes().list(filter);
            for (auto& node : page.nodes)
                loaded.emplace(node.id, std::move(node));
            filter.offset += static_cast<std::int64_t>(page.nodes.size());
            if (page.nodes.empty() || filter.offset >= page.total) break;
        }
    }
    const std::lock_guard lock(mutex_);
    nodes_ = std::move(loaded);
}

std::optional<Node> NodeSnapshot::by_iqn(std::string_view iqn) const {
    const std::lock_guard lock(mutex_);
    const auto found = std::find_if(nodes_.begin(), nodes_.end(),
                                    [&](const auto& entry) { return entry.second.iqn == iqn; });
    if (found == nodes_.end()) return std::nullopt;
    return found->second;
}

std::optional<Node> NodeSnapshot::by_mac(std::string_view mac) const {
    const std::lock_guard lock(mutex_);
    const auto found = std::find_if(nodes_.begin(), nodes_.end(),
                                    [&](const auto& entry) { return entry.second.mac == mac; });
    if (found == nodes_.end()) return std::nullopt;
    return found->second;
}

std::vector<Node> NodeSnapshot::enabled() const {
    const std::lock_guard lock(mutex_);
    std::vector<Node> nodes;
    for (const auto& [id, node] : nodes_)
        if (node.enabled) nodes.push_back(node);
    return nodes;
}

std::size_t NodeSnapshot::size() const {
    const std::lock_guard lock(mutex_);
    return nodes_.size();
}

}  // namespace bootherd::db
