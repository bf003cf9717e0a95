#pragma once
// The iSCSI target nodes this server exposes, and who may reach them.
#include <boost/asio/ip/address.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "target/scsi/target_device.hpp"

namespace bootherd::iscsi {

struct Credentials {
    std::string user;
    std::string secret;
};

struct TargetNode {
    std::string iqn;
    std::shared_ptr<scsi::TargetDevice> device;
    std::vector<std::string> allowed_initiators;  // empty: any initiator may log in / discover it
    std::optional<Credentials> chap;              // if set, the initiator must authenticate with CHAP (MD5)
    std::optional<Credentials> mutual_chap;       // if set, the target also proves itself (mutual CHAP)
    std::vector<boost::asio::ip::address> allowed_addresses{};  // empty: any address

    bool allows(std::string_view initiator_name) const;
};

// Thread-safe lookup; the catalog will implement it later.
class TargetDirectory {
  public:
    virtual ~TargetDirectory() = default;
    virtual std::shared_ptr<const TargetNode> find(std::string_view iqn) const = 0;
    virtual std::vector<std::shared_ptr<const TargetNode>> all() const = 0;
};

class StaticTargetDirectory final : public TargetDirectory {
  public:
    // Adds or replaces the node with this IQN.
    void add(TargetNode node);
    std::shared_ptr<const TargetNode> find(std::string_view iqn) const override;
    std::vector<std::shared_ptr<const TargetNode>> all() const override;

  private:
    mutable std::mutex mutex_;
    std::vector<std::shared_ptr<const TargetNode>> nodes_;
};

}  // namespace bootherd::iscsi
