#include "tools/bootherd/data_dir.hpp"

#include "tools/bootherd/store_options.hpp"

namespace bootherd::cli {

std::string choose_data_dir(const DataDirSources& sources) {
    if (sources.command_line) return *sources.command_line;
    if (sources.environment && !sources.environment->empty()) return *sources.environment;
    if (sources.config_file) return *sources.config_file;
    return kDefaultDataDir;
}

bool names_option(std::span<char* const> args, std::string_view name) {
    for (const std::string_view arg : args) {
        if (arg == "--") return false;
        if (arg == name || (arg.starts_with(name) && arg.substr(name.size()).starts_with('='))) return true;
    }
    return false;
}

}  // namespace bootherd::cli
