#pragma once
// Each subcommand of `bootherd` registers its options on the CLI11 app and returns the action to run.
#include <CLI/CLI.hpp>
#include <functional>

namespace bootherd::cli {

using Action = std::function<int()>;

// `bootherd share FILE ...`: serve one disk file as LUN 0 of one iSCSI target.
void add_share_command(CLI::App& app, Action& action);

// `bootherd image list|show|import|remove|edit|commit|discard|promote|rollback|versions|flatten|gc`.
void add_image_command(CLI::App& app, Action& action);
// `bootherd image rollout` (registered by add_image_command) and `bootherd rollout
// list|status|pause|resume|abort`.
void add_image_rollout_command(CLI::App& image, Action& action);
void add_rollout_command(CLI::App& app, Action& action);
// `bootherd node list|show|add|set|import|reset|remove|enrol|wake|discovered`, `bootherd group
// list|show|add|set|remove`.
void add_node_command(CLI::App& app, Action& action);
void add_group_command(CLI::App& app, Action& action);
// `bootherd serve`: the catalog's node disks and drafts over iSCSI.
void add_serve_command(CLI::App& app, Action& action);
// `bootherd server list`: the servers sharing the catalog.
void add_server_command(CLI::App& app, Action& action);
// `bootherd backup DEST` and `bootherd restore SRC`.
void add_backup_commands(CLI::App& app, Action& action);
// `bootherd token create|list|revoke`: API tokens.
void add_token_command(CLI::App& app, Action& action);
// `bootherd admin set-password`: web users of the dashboard and REST API.
void add_admin_command(CLI::App& app, Action& action);

}  // namespace bootherd::cli
