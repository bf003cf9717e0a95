#pragma once
// Catalog rows as the contract's JSON objects. A Renderer lives inside one catalog session and caches the
// names it looks up, so rendering a page of nodes costs a handful of queries.
#include <boost/json/object.hpp>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "db/catalog.hpp"
#include "target/iscsi/server.hpp"

namespace bootherd::web {

// "booted" with an iSCSI session on the node's target (or, for a maintenance machine, logged in to its
// draft: Renderer::status), "booting" when it fetched its boot script in the
// last few minutes but has no session yet, "off" otherwise.
std::string node_status(const db::Node& node, const std::set<std::string, std::less<>>& targets_in_session,
                        std::int64_t now_ms);

class Renderer {
  public:
    Renderer(db::Catalog::Session& session, std::filesystem::path data_dir,
             const std::vector<iscsi::SessionInfo>& sessions);

    boost::json::object node(const db::Node& node);
    std::string status(const db::Node& node) const;
    boost::json::object event(const db::Event& event);
    boost::json::object version(const db::Version& version);
    boost::json::object group(const db::Group& group);

    std::optional<std::string> image_name(std::optional<std::int64_t> id);
    std::optional<std::string> group_name(std::optional<std::int64_t> id);
    const db::Version* find_version(std::int64_t id);

  private:
    db::Catalog::Session& session_;
    std::filesystem::path data_dir_;
    std::set<std::string, std::less<>> targets_in_session_;
    std::set<std::string, std::less<>> initiators_in_session_;
    // Maintenance machines: node id -> (image name, draft number).
    std::map<std::int64_t, std::pair<std::string, std::int64_t>> maintenance_;
    std::int64_t now_;
    std::map<std::int64_t, db::Image> images_;
    std::map<std::int64_t, std::string> groups_;
    std::map<std::int64_t, db::Version> versions_;
    std::map<std::int64_t, std::string> node_names_;
};

}  // namespace bootherd::web
