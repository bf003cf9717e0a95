#pragma once
// The `--data DIR` option every image-store command takes, and the shared output helpers of those commands.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace bootherd::cli {

inline constexpr const char* kDefaultDataDir = "bootherd-data";

inline void add_data_option(CLI::App& command, std::string& data_dir) {
    command.add_option("--data", data_dir, "Data directory (catalog and disk images)")->capture_default_str();
}

// "12.5 MiB"
std::string human_bytes(std::int64_t bytes);
// "2026-11-24 07:53:04" (UTC) from milliseconds since the epoch.
std::string utc_time(std::int64_t ms);

}  // namespace bootherd::cli
