#include "web/api/render.hpp"

#include <boost/json/parse.hpp>

#include "db/clock.hpp"
#include "imagestore/store/image_store.hpp"

namespace bootherd::web {
namespace {

boost::json::value optional_json(const std::optional<std::string>& value) {
    if (!value) return nullptr;
    return boost::json::string(*value);
}

boost::json::value optional_json(const std::optional<std::int64_t>& value) {
    if (!value) return nullptr;
    return *value;
}

}  // namespace

boost::json::object token_json(const db::ApiToken& token) {
    return boost::json::object{{"id", token.id},
                               {"name", token.name},
                               {"user", token.user_name},
                               {"created", token.created_at},
                               {"last_used", optional_json(token.last_used_at)},
                               {"scope", token.scope},
                               {"expires", optional_json(token.expires_at)}};
}

boost::json::object job_json(const JobStatus& job) {
    boost::json::object out{{"id", job.id},
                            {"description", job.description},
                            {"state", std::string(to_string(job.state))},
                            {"progress", job.progress},
                            {"started_at", job.started_at}};
    if (job.finished_at) out["finished_at"] = *job.finished_at;
    if (!job.error.empty()) out["error"] = job.error;
    return out;
}

Renderer::Renderer(db::Catalog::Session& session, std::filesystem::path data_dir)
    : session_(session), data_dir_(std::move(data_dir)), now_(db::now_ms()) {
    for (auto& image : session_.images().list())
        images_.emplace(image.id, std::move(image));
    for (const auto& draft : session_.versions().maintained())
        if (const auto name = image_name(draft.image_id))
            maintenance_.emplace(*draft.maintenance_node_id, std::make_pair(*name, draft.number));
    for (auto& group : session_.groups().list())
        groups_.emplace(group.id, std::move(group.name));
}

std::optional<std::string> Renderer::image_name(std::optional<std::int64_t> id) {
    if (!id) return std::nullopt;
    auto it = images_.find(*id);
    if (it == images_.end()) return std::nullopt;
    return it->second.name;
}

std::optional<std::string> Renderer::group_name(std::optional<std::int64_t> id) {
    if (!id) return std::nullopt;
    auto it = groups_.find(*id);
    if (it == groups_.end()) return std::nullopt;
    return it->second;
}

const db::Version* Renderer::find_version(std::int64_t id) {
    auto it = versions_.find(id);
    if (it == versions_.end()) {
        auto version = session_.versions().find(id);
        if (!version) return nullptr;
        it = versions_.emplace(id, std::move(*version)).first;
    }
    return &it->second;
}

void Renderer::load_latest_boots() {
    latest_boots_ = session_.boots().latest_by_node();
}

boots::MachineStatus Renderer::status(const db::Node& node) {
    if (!latest_boots_)
        return boots::machine_status(node.state, session_.boots().latest_for_node(node.id), now_);
    const auto found = latest_boots_->find(node.id);
    return boots::machine_status(
        node.state, found == latest_boots_->end() ? std::nullopt : std::optional(found->second), now_);
}

boost::json::object Renderer::node(const db::Node& node) {
    std::optional<std::int64_t> disk_version;
    bool outdated = false;
    if (node.disk_version_id) {
        if (const auto* version = find_version(*node.disk_version_id)) {
            disk_version = version->number;
            if (node.effective_image_id) {
                auto image = images_.find(*node.effective_image_id);
                outdated = image != images_.end() && image->second.promoted_version_id &&
                           *image->second.promoted_version_id != version->id;
            }
        }
    }
    std::int64_t disk_bytes = 0;
    if (node.disk_path) {
        try {
            disk_bytes =
                static_cast<std::int64_t>(imagestore::store::allocated_bytes(data_dir_ / *node.disk_path));
        } catch (const std::exception&) {
            disk_bytes = 0;  // the disk is being replaced right now
        }
    }
    auto latest = session_.events().list_for_node(node.id, 1);
    std::optional<std::string> last_event;
    std::optional<std::int64_t> last_seen = node.last_boot_at;
    if (!latest.empty()) {
        last_event = latest.front().kind;
        last_seen = std::max(latest.front().at, node.last_boot_at.value_or(0));
    }
    boost::json::value maintenance = nullptr;
    if (const auto it = maintenance_.find(node.id); it != maintenance_.end())
        maintenance = boost::json::object{{"image", it->second.first}, {"version", it->second.second}};
    return boost::json::object{
        {"id", node.id},
        {"name", node.name},
        {"mac", node.mac},
        {"hostname", optional_json(node.hostname)},
        {"effective_hostname", optional_json(node.effective_hostname)},
        {"fixed_ip", optional_json(node.fixed_ip)},
        {"image", optional_json(image_name(node.effective_image_id))},
        {"group", optional_json(group_name(node.group_id))},
        {"persistent", node.effective_persistent},
        {"bind_address", node.effective_bind_address},
        {"boot_address", optional_json(node.boot_address)},
        {"enabled", node.enabled},
        {"disk_version", optional_json(disk_version)},
        {"disk_bytes", disk_bytes},
        {"outdated", outdated},
        {"status", boots::to_string(status(node))},
        {"last_event", optional_json(last_event)},
        {"last_seen", optional_json(last_seen)},
        {"iqn", node.iqn},
        {"maintenance", std::move(maintenance)},
    };
}

boost::json::object Renderer::event(const db::Event& event) {
    std::optional<std::string> node_name;
    if (event.node_id) {
        auto it = node_names_.find(*event.node_id);
        if (it == node_names_.end()) {
            auto node = session_.nodes().find(*event.node_id);
            it = node_names_.emplace(*event.node_id, node ? node->name : std::string()).first;
        }
        if (!it->second.empty()) node_name = it->second;
    }
    boost::json::error_code ec;
    boost::json::value detail = boost::json::parse(event.detail, ec);
    if (ec) detail = boost::json::string(event.detail);
    return boost::json::object{{"id", event.id},
                               {"time", event.at},
                               {"node", optional_json(node_name)},
                               {"mac", optional_json(event.mac)},
                               {"step", event.kind},
                               {"detail", std::move(detail)}};
}

boost::json::object Renderer::version(const db::Version& version) {
    std::optional<std::int64_t> parent;
    if (version.parent_version_id) {
        if (const auto* found = find_version(*version.parent_version_id)) parent = found->number;
    }
    std::optional<std::string> maintenance_node;
    if (version.maintenance_node_id)
        if (const auto node = session_.nodes().find(*version.maintenance_node_id))
            maintenance_node = node->name;
    return boost::json::object{{"number", version.number},
                               {"parent", optional_json(parent)},
                               {"state", std::string(db::to_string(version.state))},
                               {"size_bytes", version.size_bytes},
                               {"file_bytes", version.file_bytes},
                               {"created", version.created_at},
                               {"sealed", optional_json(version.sealed_at)},
                               {"promoted", version.promoted},
                               {"note", version.note},
                               {"maintenance_node", optional_json(maintenance_node)}};
}

boost::json::object Renderer::group(const db::Group& group) {
    db::NodeFilter filter;
    filter.group_id = group.id;
    filter.limit = 1;
    const auto members = session_.nodes().list(filter).total;
    return boost::json::object{{"id", group.id},
                               {"name", group.name},
                               {"image", optional_json(image_name(group.image_id))},
                               {"persistent", group.persistent},
                               {"bind_address", group.bind_address},
                               {"description", group.description},
                               {"nodes", members}};
}

}  // namespace bootherd::web
