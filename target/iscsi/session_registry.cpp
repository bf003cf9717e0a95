#include "target/iscsi/session_registry.hpp"

#include <algorithm>

#include "target/iscsi/connection.hpp"

namespace bootherd::iscsi {

void SessionRegistry::add(const std::shared_ptr<Connection>& connection) {
    const std::lock_guard lock(mutex_);
    std::erase_if(connections_, [](const auto& weak) { return weak.expired(); });
    connections_.push_back(connection);
}

void SessionRegistry::remove(const Connection* connection) {
    const std::lock_guard lock(mutex_);
    std::erase_if(connections_, [&](const auto& weak) {
        const auto strong = weak.lock();
        return !strong || strong.get() == connection;
    });
}

std::vector<std::shared_ptr<Connection>> SessionRegistry::find_session(const std::string& initiator,
                                                                       std::uint64_t isid,
                                                                       const std::string& target) const {
    std::vector<std::shared_ptr<Connection>> found;
    for (auto& c : all()) {
        if (c->in_full_feature() && c->isid() == isid && c->initiator_name() == initiator &&
            c->target_iqn() == target)
            found.push_back(std::move(c));
    }
    return found;
}

std::vector<std::shared_ptr<Connection>> SessionRegistry::of_target(const std::string& target,
                                                                    const Connection* except) const {
    std::vector<std::shared_ptr<Connection>> found;
    if (target.empty()) return found;
    for (auto& c : all()) {
        if (c.get() != except && c->in_full_feature() && c->target_iqn() == target)
            found.push_back(std::move(c));
    }
    return found;
}

std::vector<std::shared_ptr<Connection>> SessionRegistry::all() const {
    std::vector<std::shared_ptr<Connection>> live;
    const std::lock_guard lock(mutex_);
    live.reserve(connections_.size());
    for (const auto& weak : connections_) {
        if (auto strong = weak.lock()) live.push_back(std::move(strong));
    }
    return live;
}

std::size_t SessionRegistry::size() const {
    const std::lock_guard lock(mutex_);
    return connections_.size();
}

}  // namespace bootherd::iscsi
