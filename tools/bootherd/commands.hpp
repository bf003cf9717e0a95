#pragma once
// Each subcommand of `bootherd` registers its options on the CLI11 app and returns the action to run.
#include <CLI/CLI.hpp>
#include <functional>

namespace bootherd::cli {

using Action = std::function<int()>;

// `bootherd share FILE ...`: serve one disk file as LUN 0 of one iSCSI target.
void add_share_command(CLI::App& app, Action& action);

}  // namespace bootherd::cli
