#pragma once
// The `--data DIR` option every image-store command takes, and the shared output helpers of those commands.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace bootherd::cli {

inline constexpr const char* kDefaultDataDir = "bootherd-data";

// Whether a command may make the data directory (import, add, serve, restore) or needs it to exist (list,
// show, and everything that changes what is already there): a read-only command never leaves an empty
// directory.
enum class DataDirUse { existing, create };

// The `--data` of one command. Set on the command line only: the config file names the data directory once,
// in its top-level `data` key (see data_dir.hpp for the order of command line, BOOTHERD_DATA and file).
void add_data_option(CLI::App& command, std::string& data_dir, DataDirUse use = DataDirUse::existing);

// `--json`: print the REST API's JSON instead of a table (lists are {"items": [...]}, like the API's).
void add_json_flag(CLI::App& command, bool& json);
// `--yes`: go ahead with a destructive action without asking (needed when standard input is no terminal).
void add_yes_flag(CLI::App& command, bool& yes);

// "12.5 MiB"
std::string human_bytes(std::int64_t bytes);

}  // namespace bootherd::cli
