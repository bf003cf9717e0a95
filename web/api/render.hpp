#pragma once
// Catalog rows as the contract's JSON objects. A Renderer lives inside one catalog session and caches the
// names it looks up, so rendering a page of nodes costs a handful of queries.
#include <boost/json/object.hpp>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "boots/machine_status.hpp"
#include "db/api_tokens_repo.hpp"
#include "db/catalog.hpp"
#include "web/job_registry.hpp"

namespace bootherd::web {

// A job of the registry: id, description, state, progress, error (when it failed), started_at, finished_at
// (once it ended).
boost::json::object job_json(const JobStatus& job);

// An API token as GET /api/v1/tokens and `bootherd token list --json` show it (never its secret).
boost::json::object token_json(const db::ApiToken& token);

class Renderer {
  public:
    Renderer(db::Catalog::Session& session, std::filesystem::path data_dir);

    boost::json::object node(const db::Node& node);
    // The one machine status (boots/machine_status.hpp): its recorded session state and newest boot.
    boots::MachineStatus status(const db::Node& node);
    // Reads every node's newest boot at once, for callers about to ask the status of many nodes.
    void load_latest_boots();
    boost::json::object event(const db::Event& event);
    boost::json::object version(const db::Version& version);
    boost::json::object group(const db::Group& group);

    std::optional<std::string> image_name(std::optional<std::int64_t> id);
    std::optional<std::string> group_name(std::optional<std::int64_t> id);
    const db::Version* find_version(std::int64_t id);

  private:
    db::Catalog::Session& session_;
    std::filesystem::path data_dir_;
    std::optional<std::map<std::int64_t, db::Boot>> latest_boots_;  // node id -> newest boot, when loaded
    // Maintenance machines: node id -> (image name, draft number).
    std::map<std::int64_t, std::pair<std::string, std::int64_t>> maintenance_;
    std::int64_t now_;
    std::map<std::int64_t, db::Image> images_;
    std::map<std::int64_t, std::string> groups_;
    std::map<std::int64_t, db::Version> versions_;
    std::map<std::int64_t, std::string> node_names_;
};

}  // namespace bootherd::web
