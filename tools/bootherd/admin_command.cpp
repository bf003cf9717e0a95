// `bootherd admin set-password`: sets (or creates) a web user's password in the catalog.
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>

#include "db/catalog.hpp"
#include "tools/bootherd/commands.hpp"
#include "tools/bootherd/initial_password.hpp"
#include "tools/bootherd/store_options.hpp"
#include "web/auth.hpp"

namespace bootherd::cli {
namespace {

struct AdminOptions {
    std::string data = kDefaultDataDir;
    std::string catalog{};
    std::string user{web::kAdminUser};
};

// One line from standard input, without echo when it is a terminal.
std::string read_password(const std::string& prompt) {
    const bool terminal = isatty(STDIN_FILENO) != 0;
    termios saved{};
    if (terminal) {
        std::cerr << prompt << std::flush;
        tcgetattr(STDIN_FILENO, &saved);
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string line;
    std::getline(std::cin, line);
    if (terminal) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        std::cerr << '\n';
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
}

int run_set_password(const AdminOptions& o) {
    const std::string password = read_password("new password for " + o.user + ": ");
    if (isatty(STDIN_FILENO) != 0 && read_password("again: ") != password) {
        std::cerr << "the passwords differ; nothing changed\n";
        return 1;
    }
    auto catalog = db::Catalog::open(catalog_location(o.data, o.catalog));
    web::Authenticator(catalog).set_password(o.user, password);
    std::cout << "password of " << o.user << " set; their browser sessions were ended\n";
    // The generated first password is the admin's until they choose one.
    if (o.user == web::kAdminUser && remove_initial_password(o.data))
        std::cout << "deleted " << initial_password_file(o.data).string() << "\n";
    return 0;
}

}  // namespace

void add_admin_command(CLI::App& app, Action& action) {
    auto* admin = app.add_subcommand("admin", "Web users of the dashboard and REST API");
    admin->require_subcommand(1);
    auto o = std::make_shared<AdminOptions>();
    auto* set_password = admin->add_subcommand(
        "set-password", "Set a web user's password (created if new), read from standard input");
    add_data_option(*set_password, o->data, o->catalog, DataDirUse::create);
    set_password->add_option("--user", o->user, "User name")->capture_default_str();
    set_password->callback([o, &action] { action = [o] { return run_set_password(*o); }; });
}

}  // namespace bootherd::cli
