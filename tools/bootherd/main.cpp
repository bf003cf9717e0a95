// The single `bootherd` binary: one CLI11 subcommand per job.
#include <sys/resource.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <span>
#include <string_view>

#include "common/crc32c.hpp"
#include "common/log.hpp"
#include "common/version.hpp"
#include "tools/bootherd/cli_output.hpp"
#include "tools/bootherd/commands.hpp"
#include "tools/bootherd/data_dir.hpp"
#include "tools/bootherd/store_options.hpp"

namespace {
// A server holds one descriptor per connection: lift the soft limit (often 1024) to the hard one.
void raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

// Exit codes: 0 done, 1 failed (the action threw or refused), 2 the command line or config file is wrong.
constexpr int kUsageError = 2;

constexpr const char* kInstalledConfig = "/etc/bootherd/bootherd.toml";

CLI::App& leaf_command(CLI::App& app) {
    CLI::App* leaf = &app;
    while (!leaf->get_subcommands().empty())
        leaf = leaf->get_subcommands().front();
    return *leaf;
}

// Gives the chosen command's --data its final value (data_dir.hpp has the order) and checks it again.
void settle_data_dir(CLI::App& app, std::span<char* const> args) {
    CLI::Option* own = leaf_command(app).get_option_no_throw("--data");
    CLI::Option* global = app.get_option("--data");
    if (own == nullptr) return;
    const bool global_given = global->count() > 0;
    const bool global_on_command_line = global_given && bootherd::cli::names_option(args, "--data");
    bootherd::cli::DataDirSources sources;
    if (own->count() > 0)
        sources.command_line = own->as<std::string>();
    else if (global_on_command_line)
        sources.command_line = global->as<std::string>();
    if (const char* env = std::getenv("BOOTHERD_DATA")) sources.environment = env;
    if (global_given && !global_on_command_line) sources.config_file = global->as<std::string>();
    own->clear();
    own->add_result(bootherd::cli::choose_data_dir(sources));
    own->run_callback();
}

// The same for --catalog: the command's own, `bootherd --catalog URI <command>`, BOOTHERD_CATALOG, the config
// file's top-level `catalog`; none of them: <data>/catalog.db.
void settle_catalog(CLI::App& app, std::span<char* const> args) {
    CLI::Option* own = leaf_command(app).get_option_no_throw("--catalog");
    CLI::Option* global = app.get_option("--catalog");
    if (own == nullptr || own->count() > 0) return;
    const bool global_on_command_line = global->count() > 0 && bootherd::cli::names_option(args, "--catalog");
    std::string chosen;
    const char* env = std::getenv("BOOTHERD_CATALOG");
    if (global_on_command_line)
        chosen = global->as<std::string>();
    else if (env != nullptr && *env != '\0')
        chosen = env;
    else if (global->count() > 0)
        chosen = global->as<std::string>();
    if (chosen.empty()) return;
    own->add_result(chosen);
    own->run_callback();
}
}  // namespace

int main(int argc, char** argv) {
    using namespace bootherd;
    // Everything bootherd creates (catalog with CHAP secrets, disks, the first admin password) is its
    // owner's alone.
    ::umask(077);
    CLI::App app{"bootherd: diskless network-boot provisioning (iSCSI target, image store, PXE boot)"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "bootherd " + std::string(kVersion), "Print the version and exit");
    // One TOML (or INI) file for every command. Top-level keys are the options every command shares
    // (`data = "/var/lib/bootherd"`, `catalog = "postgresql://..."`, `verbose = true`); then one section per
    // command, named by its path:
    // `[serve]` holds `dhcp = "full"`, `interface = "eth1"`; `[node.list]`, `[image.import]`,
    // `[rollout.status]` the nested ones. The command line wins over the file; a key the command does not
    // know is an error rather than a silently ignored typo. Without --config, BOOTHERD_CONFIG names the file
    // (empty: none), else /etc/bootherd/bootherd.toml is read when it exists. fallthrough() lets --config and
    // --data follow the subcommand name, where users put them.
    app.fallthrough();
    const char* config_env = std::getenv("BOOTHERD_CONFIG");
    app.set_config(
        "--config", config_env != nullptr ? config_env : kInstalledConfig,
        "Read options from a TOML file: top-level keys for every command, then a section per command "
        "([serve], [node.list], ...)",
        config_env != nullptr && *config_env != '\0');
    app.allow_config_extras(CLI::config_extras_mode::error);
    bool verbose = false;
    app.add_flag("-v,--verbose", verbose, "Log debug detail");
    std::string data_dir;
    app.add_option("--data", data_dir,
                   "Data directory for every command (command line > BOOTHERD_DATA > config file's data > " +
                       std::string(cli::kDefaultDataDir) + ")");
    std::string catalog;
    app.add_option(
        "--catalog", catalog,
        "Catalog for every command: a postgresql:// URI that several servers share (command line > "
        "BOOTHERD_CATALOG > config file's catalog > <data>/catalog.db)");

    cli::Action action;
    cli::add_share_command(app, action);
    cli::add_image_command(app, action);
    cli::add_node_command(app, action);
    cli::add_group_command(app, action);
    cli::add_rollout_command(app, action);
    cli::add_serve_command(app, action);
    cli::add_server_command(app, action);
    cli::add_token_command(app, action);
    cli::add_admin_command(app, action);
    cli::add_backup_commands(app, action);
    app.add_subcommand("version", "Print the version and build facts")->callback([&] {
        action = [] {
            std::cout << "bootherd " << kVersion
                      << " (crc32c: " << (crc32c_is_hardware() ? "sse4.2" : "software") << ")\n";
            return 0;
        };
    });

    try {
        app.parse(argc, argv);
        const std::span<char* const> args(argv + 1, static_cast<std::size_t>(argc - 1));
        settle_data_dir(app, args);
        settle_catalog(app, args);
    } catch (const CLI::ConfigError& e) {
        // CLI11 words an unknown key as "INI was not able to parse <key>"; say what it means.
        const std::string_view message = e.what();
        constexpr std::string_view unknown_key = "INI was not able to parse ";
        constexpr std::string_view not_here = ": This option is not allowed in a configuration file";
        if (message.ends_with(not_here))
            std::cerr
                << "bootherd: in the config file: " << message.substr(0, message.size() - not_here.size())
                << " is not allowed in a section; give it once at the top of the file, for every command\n";
        else if (message.starts_with(unknown_key))
            std::cerr << "bootherd: in the config file: unknown key " << message.substr(unknown_key.size())
                      << " (not an option of that subcommand)\n";
        else
            std::cerr << "bootherd: in the config file: " << message << "\n";
        return kUsageError;
    } catch (const CLI::ParseError& e) {
        // --help and --version end parsing too, and exit(e) answers 0 for them.
        return app.exit(e) == 0 ? 0 : kUsageError;
    }
    if (verbose) log::set_level(log::Level::debug);
    raise_descriptor_limit();
    try {
        return action ? action() : 0;
    } catch (const cli::UsageError& e) {
        std::cerr << "bootherd: " << e.what() << "\n";
        return kUsageError;
    } catch (const std::exception& e) {
        log::error(e.what());
        return 1;
    }
}
