#pragma once
// The boot-related `bootherd node` subcommands: `wake NAME | --group G` (Wake-on-LAN) and `discovered`
// (PXE clients seen on the network that are not enrolled).
#include <CLI/CLI.hpp>

#include "tools/bootherd/commands.hpp"

namespace bootherd::cli {

void add_node_boot_commands(CLI::App& node_command, Action& action);

}  // namespace bootherd::cli
