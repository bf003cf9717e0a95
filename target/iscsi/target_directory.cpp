#include "target/iscsi/target_directory.hpp"

#include <algorithm>

#include "common/ip_address.hpp"

namespace bootherd::iscsi {

bool TargetNode::allows(std::string_view initiator_name) const {
    return allowed_initiators.empty() || std::find(allowed_initiators.begin(), allowed_initiators.end(),
                                                   initiator_name) != allowed_initiators.end();
}

bool TargetNode::allows_address(const boost::asio::ip::address& peer) const {
    if (allowed_addresses.empty()) return true;
    const auto p = unmapped(peer);
    return std::any_of(allowed_addresses.begin(), allowed_addresses.end(),
                       [&](const auto& a) { return unmapped(a) == p; });
}

void StaticTargetDirectory::add(TargetNode node) {
    auto shared = std::make_shared<const TargetNode>(std::move(node));
    const std::lock_guard lock(mutex_);
    const auto it =
        std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& n) { return n->iqn == shared->iqn; });
    if (it != nodes_.end()) {
        *it = std::move(shared);
    } else {
        nodes_.push_back(std::move(shared));
    }
}

std::shared_ptr<const TargetNode> StaticTargetDirectory::find(std::string_view iqn) const {
    const std::lock_guard lock(mutex_);
    // iSCSI names compare case-insensitively in practice only after stringprep; IQNs are lower case by rule.
    const auto it = std::find_if(nodes_.begin(), nodes_.end(), [&](const auto& n) { return n->iqn == iqn; });
    return it != nodes_.end() ? *it : nullptr;
}

std::vector<std::shared_ptr<const TargetNode>> StaticTargetDirectory::all() const {
    const std::lock_guard lock(mutex_);
    return nodes_;
}

}  // namespace bootherd::iscsi
