#include "db/node_snapshot.hpp"

#include <algorithm>

namespace bootherd::db {

void NodeSnapshot::remember(const Node& node) {
    const std::lock_guard lock(mutex_);
    nodes_.insert_or_assign(node.id, node);
}

void NodeSnapshot::load(Catalog& catalog) {
    std::map<std::int64_t, Node> loaded;
    for (auto& node : catalog.session().nodes().all())
        loaded.emplace(node.id, std::move(node));
    const std::lock_guard lock(mutex_);
    nodes_ = std::move(loaded);
}

std::optional<Node> NodeSnapshot::by_iqn(std::string_view iqn) const {
    return find([&](const Node& node) { return node.iqn == iqn; });
}

std::optional<Node> NodeSnapshot::by_mac(std::string_view mac) const {
    return find([&](const Node& node) { return node.mac == mac; });
}

std::optional<Node> NodeSnapshot::find(const std::function<bool(const Node&)>& match) const {
    const std::lock_guard lock(mutex_);
    const auto found =
        std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& entry) { return match(entry.second); });
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
