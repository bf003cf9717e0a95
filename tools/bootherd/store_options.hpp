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
// With it, `--catalog`: where the catalog is (see catalog_location); like --data, the config file gives it
// once, in the top-level `catalog` key, and BOOTHERD_CATALOG ranks between the two.
void add_data_option(CLI::App& command, std::string& data_dir, std::string& catalog,
                     DataDirUse use = DataDirUse::existing);

// The catalog a command opens: `catalog` when given (a "postgresql://" URI shares one PostgreSQL catalog
// between servers), else the SQLite file <data>/catalog.db.
std::string catalog_location(const std::string& data_dir, const std::string& catalog);

// `--json`: print the REST API's JSON instead of a table (lists are {"items": [...]}, like the API's).
void add_json_flag(CLI::App& command, bool& json);
// `--yes`: go ahead with a destructive action without asking (needed when standard input is no terminal).
void add_yes_flag(CLI::App& command, bool& yes);

// "12.5 MiB"
std::string human_bytes(std::int64_t bytes);

}  // namespace bootherd::cli
