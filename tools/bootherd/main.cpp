// The single `bootherd` binary: one CLI11 subcommand per job.
#include <sys/resource.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <string_view>

#include "common/crc32c.hpp"
#include "common/log.hpp"
#include "tools/bootherd/commands.hpp"

namespace {
// A server holds one descriptor per connection: lift the soft limit (often 1024) to the hard one.
void raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}
}  // namespace

int main(int argc, char** argv) {
    using namespace bootherd;
    // Everything bootherd creates (catalog with CHAP secrets, disks, the first admin password) is its
    // owner's alone.
    ::umask(077);
    CLI::App app{"bootherd: diskless network-boot provisioning (iSCSI target, image store, PXE boot)"};
    app.require_subcommand(1);
    // Every option can also come from a TOML (or INI) file, one section per subcommand: `[serve]` holds
    // `dhcp = "full"`, `interface = "eth1"` and so on. The command line wins over the file; a key the
    // subcommand does not know is an error rather than a silently ignored typo. fallthrough() lets --config
    // follow the subcommand name, where users put it.
    app.fallthrough();
    app.set_config("--config", "", "Read options from a TOML file, in a section named after the subcommand");
    app.allow_config_extras(CLI::config_extras_mode::error);
    bool verbose = false;
    app.add_flag("-v,--verbose", verbose, "Log debug detail");

    cli::Action action;
    cli::add_share_command(app, action);
    cli::add_image_command(app, action);
    cli::add_node_command(app, action);
    cli::add_group_command(app, action);
    cli::add_rollout_command(app, action);
    cli::add_serve_command(app, action);
    cli::add_admin_command(app, action);
    app.add_subcommand("version", "Print the version and build facts")->callback([&] {
        action = [] {
            std::cout << "bootherd 0.1.0 (crc32c: " << (crc32c_is_hardware() ? "sse4.2" : "software")
                      << ")\n";
            return 0;
        };
    });

    try {
        app.parse(argc, argv);
    } catch (const CLI::ConfigError& e) {
        // CLI11 words an unknown key as "INI was not able to parse <key>"; say what it means.
        const std::string_view message = e.what();
        constexpr std::string_view unknown_key = "INI was not able to parse ";
        if (message.starts_with(unknown_key))
            std::cerr << "bootherd: in the config file: unknown key " << message.substr(unknown_key.size())
                      << " (not an option of that subcommand)\n";
        else
            std::cerr << "bootherd: in the config file: " << message << "\n";
        return e.get_exit_code();
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (verbose) log::set_level(log::Level::debug);
    raise_descriptor_limit();
    try {
        return action ? action() : 0;
    } catch (const std::exception& e) {
        log::error(e.what());
        return 1;
    }
}
