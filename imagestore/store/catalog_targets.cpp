#include "imagestore/store/catalog_targets.hpp"

#include <cctype>
#include <cstdio>

#include "common/log.hpp"
#include "db/error.hpp"
#include "target/scsi/target_device.hpp"

namespace bootherd::imagestore::store {
namespace {

constexpr std::string_view kDraftPrefix = "iqn.2026-11.org.bootherd:draft.";

// A stable identity for the LUN (VPD 80/83) derived from the disk file: a new disk is a new LU.
std::uint64_t disk_id(const std::string& relative_path) {
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a
    for (unsigned char c : relative_path)
        h = (h ^ c) * 1099511628211ull;
    return h;
}

}  // namespace

boost::asio::ip::address bound_address(const db::Node& node) {
    boost::system::error_code ec;
    const auto address = node.boot_address ? boost::asio::ip::make_address(*node.boot_address, ec)
                                           : boost::asio::ip::address();
    return ec ? boost::asio::ip::address() : address;
}

std::string node_initiator_iqn(const db::Node& node) {
    return node.iqn + ":initiator";
}

std::string draft_iqn(std::string_view image_name) {
    std::string iqn(kDraftPrefix);
    for (char c : image_name) {
        const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        iqn += lower == '_' ? '-' : lower;
    }
    return iqn;
}

CatalogTargets::CatalogTargets(ImageStore& store, db::NodeSnapshot& known) : store_(store), known_(known) {}

void CatalogTargets::log_outage(const std::string& line) const {
    const std::lock_guard lock(mutex_);
    outage_log_.warn(line, RateLimitedLog::Clock::now());
}

bool CatalogTargets::admits_logins(const db::Node& node) {
    if (!node.enabled) return false;
    if (node.effective_bind_address && !node.boot_address) {
        log::warn("node ", node.name, " is bound to the address its boot script goes to, and none has been ",
                  "served yet: login refused");
        return false;
    }
    return true;
}

iscsi::TargetNode CatalogTargets::describe_node(const db::Node& node) const {
    iscsi::TargetNode target;
    target.iqn = node.iqn;
    target.allowed_initiators = {node_initiator_iqn(node)};
    target.chap = iscsi::Credentials{node.chap_user, node.chap_secret};
    if (node.effective_bind_address) target.allowed_addresses = {bound_address(node)};
    return target;
}

std::optional<iscsi::TargetNode> CatalogTargets::describe_draft(db::Catalog::Session& session,
                                                                std::string_view image_name,
                                                                const db::Version& draft) const {
    // Never served without CHAP: a draft without credentials (made by an older version, until a store
    // opens and gives it some) is no target.
    if (!draft.chap_user || !draft.chap_secret) return std::nullopt;
    iscsi::TargetNode target;
    target.iqn = draft_iqn(image_name);
    target.chap = iscsi::Credentials{*draft.chap_user, *draft.chap_secret};
    if (draft.maintenance_node_id) {
        const auto node = session.nodes().find(*draft.maintenance_node_id);
        if (!node) return std::nullopt;
        target.allowed_initiators = {node_initiator_iqn(*node)};
        if (node->effective_bind_address) target.allowed_addresses = {bound_address(*node)};
    }
    return target;
}

std::shared_ptr<const iscsi::TargetNode> CatalogTargets::open_cached(iscsi::TargetNode target,
                                                                     const std::string& relative_path,
                                                                     bool keep_open) const {
    // Held while opening: a disk must never be opened read-write twice at once.
    const std::lock_guard lock(mutex_);
    auto cached = open_.find(target.iqn);
    if (cached != open_.end() && cached->second.path == relative_path)
        if (auto device = cached->second.device.lock()) {
            target.device = std::move(device);
            return std::make_shared<const iscsi::TargetNode>(std::move(target));
        }

    auto chain = store_.layers().open_chain(store_.absolute(relative_path).string(), true);
    const std::uint64_t id = disk_id(relative_path);
    char serial[17];
    std::snprintf(serial, sizeof serial, "%016llx", static_cast<unsigned long long>(id));
    std::vector<scsi::LogicalUnitConfig> luns;
    luns.push_back({.lun = 0, .backend = chain, .serial = serial, .naa_id = id, .read_only = false});
    std::shared_ptr<scsi::TargetDevice> device = scsi::make_target_device(std::move(luns));
    log::info("serving ", relative_path, " as ", target.iqn);
    open_[target.iqn] = OpenTarget{relative_path, device, keep_open ? device : nullptr};
    target.device = std::move(device);
    return std::make_shared<const iscsi::TargetNode>(std::move(target));
}

std::shared_ptr<const iscsi::TargetNode> CatalogTargets::find_node(std::string_view iqn) const {
    std::optional<db::Node> node;
    try {
        auto session = store_.catalog().session();
        auto query = session.database().prepare("SELECT id FROM nodes WHERE iqn = ?");
        query->bind_all(iqn);
        if (query->step()) node = session.nodes().get(query->int64(0));
        query->reset();
    } catch (const db::CatalogUnavailable& e) {
        log_outage("catalog unreachable (" + std::string(e.what()) + "): login to " + std::string(iqn) +
                   " goes by what this server last read");
        return find_known_node(iqn);
    }
    if (!node || !admits_logins(*node)) return nullptr;
    if (!node->disk_path) node = store_.ensure_disk(node->id);  // first boot
    if (!node->disk_path) {
        log::warn("node ", node->name, " has no disk: its image has no promoted version");
        return nullptr;
    }
    known_.remember(*node);
    auto target = open_cached(describe_node(*node), *node->disk_path, true);
    store_.remove_unused_disks();  // a disk replaced under sessions may have been closed by now
    return target;
}

std::shared_ptr<const iscsi::TargetNode> CatalogTargets::find_known_node(std::string_view iqn) const {
    const auto node = known_.by_iqn(iqn);
    if (!node || !admits_logins(*node)) return nullptr;
    if (!node->disk_path) {
        log::warn("node ", node->name, " has no disk yet, and none can be made without the catalog");
        return nullptr;
    }
    return open_cached(describe_node(*node), *node->disk_path, true);
}

std::shared_ptr<const iscsi::TargetNode> CatalogTargets::find_draft(std::string_view iqn) const {
    std::optional<iscsi::TargetNode> found;
    std::string path;
    {
        auto session = store_.catalog().session();
        for (const auto& image : session.images().list()) {
            if (draft_iqn(image.name) != iqn) continue;
            for (const auto& version : session.versions().list(image.id))
                if (version.state == db::VersionState::draft) {
                    found = describe_draft(session, image.name, version);
                    path = version.file_path;
                }
        }
    }
    if (!found) return nullptr;
    return open_cached(std::move(*found), path, false);
}

std::shared_ptr<const iscsi::TargetNode> CatalogTargets::find(std::string_view iqn) const {
    try {
        return iqn.starts_with(kDraftPrefix) ? find_draft(iqn) : find_node(iqn);
    } catch (const std::exception& e) {
        log::error("cannot open target ", iqn, ": ", e.what());
        return nullptr;
    }
}

std::vector<std::shared_ptr<const iscsi::TargetNode>> CatalogTargets::all() const {
    std::vector<std::shared_ptr<const iscsi::TargetNode>> targets;
    std::vector<iscsi::TargetNode> described;
    try {
        auto session = store_.catalog().session();
        db::NodeFilter filter;
        filter.limit = 10000;
        while (true) {
            auto page = session.nodes().list(filter);
            for (const auto& node : page.nodes)
                if (node.enabled) described.push_back(describe_node(node));
            filter.offset += static_cast<std::int64_t>(page.nodes.size());
            if (page.nodes.empty() || filter.offset >= page.total) break;
        }
        for (const auto& image : session.images().list())
            for (const auto& version : session.versions().list(image.id))
                if (version.state == db::VersionState::draft)
                    if (auto draft = describe_draft(session, image.name, version))
                        described.push_back(std::move(*draft));
    } catch (const db::CatalogUnavailable& e) {
        log_outage("catalog unreachable (" + std::string(e.what()) +
                   "): discovery lists the nodes this server last read");
        described.clear();
        for (const auto& node : known_.enabled())
            described.push_back(describe_node(node));
    }
    const std::lock_guard lock(mutex_);
    for (auto& target : described) {
        if (auto cached = open_.find(target.iqn); cached != open_.end())
            target.device = cached->second.device.lock();
        targets.push_back(std::make_shared<const iscsi::TargetNode>(std::move(target)));
    }
    return targets;
}

}  // namespace bootherd::imagestore::store
