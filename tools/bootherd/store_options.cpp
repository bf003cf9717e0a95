#include "tools/bootherd/store_options.hpp"

#include <cstdio>
#include <filesystem>

namespace bootherd::cli {

void add_data_option(CLI::App& command, std::string& data_dir, std::string& catalog, DataDirUse use) {
    // The URI may hold a password: never echoed as a default (it has none) nor logged.
    command.add_option("--catalog", catalog, "Catalog: a postgresql:// URI, or empty for <data>/catalog.db")
        ->configurable(false);
    auto* option = command.add_option("--data", data_dir, "Data directory (catalog and disk images)")
                       ->capture_default_str()
                       ->configurable(false);
    if (use == DataDirUse::existing)
        option->check(CLI::Validator(
            [](std::string& dir) -> std::string {
                if (std::filesystem::is_directory(dir)) return {};
                return "no bootherd data directory at " + std::filesystem::absolute(dir).string() +
                       ": give --data, BOOTHERD_DATA or data= in the config";
            },
            "DIR"));
}

std::string catalog_location(const std::string& data_dir, const std::string& catalog) {
    if (!catalog.empty()) return catalog;
    return (std::filesystem::path(data_dir) / "catalog.db").string();
}

void add_json_flag(CLI::App& command, bool& json) {
    command.add_flag("--json", json, "Print JSON with the REST API's field names");
}

void add_yes_flag(CLI::App& command, bool& yes) {
    command.add_flag("-y,--yes", yes,
                     "Do it without asking (required when standard input is not a terminal)");
}

std::string human_bytes(std::int64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1024 && unit < 4) {
        value /= 1024;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
    return text;
}

}  // namespace bootherd::cli
