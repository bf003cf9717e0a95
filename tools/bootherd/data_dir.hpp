#pragma once
// Which data directory a command uses. The order, highest first: the command's own `--data` (or `bootherd
// --data DIR <command>`), the BOOTHERD_DATA environment variable, the config file's top-level `data` key, and
// last `bootherd-data` in the current directory (kDefaultDataDir).
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace bootherd::cli {

struct DataDirSources {
    std::optional<std::string> command_line{};
    std::optional<std::string> environment{};  // BOOTHERD_DATA; empty counts as unset
    std::optional<std::string> config_file{};
};

std::string choose_data_dir(const DataDirSources& sources);

// Whether `args` (argv without the program name) name the option `name` ("--data" or "--data=DIR") before a
// bare "--".
bool names_option(std::span<char* const> args, std::string_view name);

}  // namespace bootherd::cli
