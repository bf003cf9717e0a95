// `bootherd server list`: the servers sharing the catalog (docs/SCALE-OUT.md), read from the catalog
// directly, so it answers with any server (or none) running: `--catalog postgresql://...` for a shared one.
#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "db/catalog.hpp"
#include "db/clock.hpp"
#include "tools/bootherd/cli_output.hpp"
#include "tools/bootherd/cluster_service.hpp"
#include "tools/bootherd/commands.hpp"
#include "tools/bootherd/store_options.hpp"
#include "web/api/server_list.hpp"

namespace bootherd::cli {
namespace {

struct ServerOptions {
    std::string data = kDefaultDataDir;
    std::string catalog{};
    unsigned timeout_seconds = ClusterOptions{}.server_timeout_seconds;
    bool json = false;
};

// "42s", "3m05s", "2h07m", "3d04h": how long ago, to the unit that matters.
std::string age(std::int64_t ms) {
    const auto seconds = std::max<std::int64_t>(0, ms / 1000);
    char text[32];
    if (seconds < 60)
        std::snprintf(text, sizeof text, "%llds", static_cast<long long>(seconds));
    else if (seconds < 3600)
        std::snprintf(text, sizeof text, "%lldm%02llds", static_cast<long long>(seconds / 60),
                      static_cast<long long>(seconds % 60));
    else if (seconds < 86400)
        std::snprintf(text, sizeof text, "%lldh%02lldm", static_cast<long long>(seconds / 3600),
                      static_cast<long long>(seconds % 3600 / 60));
    else
        std::snprintf(text, sizeof text, "%lldd%02lldh", static_cast<long long>(seconds / 86400),
                      static_cast<long long>(seconds % 86400 / 3600));
    return text;
}

// "base v1, win v2"; "-" for none.
std::string held(const boost::json::array& versions) {
    std::string text;
    for (const auto& copy : versions) {
        if (!text.empty()) text += ", ";
        text +=
            std::string(copy.at("image").as_string()) + " v" + std::to_string(copy.at("version").as_int64());
    }
    return text.empty() ? "-" : text;
}

int run_list(const ServerOptions& o) {
    auto catalog = db::Catalog::open(catalog_location(o.data, o.catalog));
    boost::json::object servers;
    {
        auto session = catalog.session();
        servers = web::servers_json(session, db::now_ms(), o.timeout_seconds * 1000LL);
    }
    if (o.json) {
        print_json(std::cout, servers);
        return 0;
    }
    const auto& items = servers.at("items").as_array();
    if (items.empty()) {
        std::cout << "no server is registered in this catalog (`serve --server-name NAME` registers one)\n";
        return 0;
    }
    const auto now = servers.at("now").as_int64();
    Table table({"NAME", "STATE", "PORTAL", "HOMED", "BOOTING", "CAPACITY", "HEARTBEAT", "VERSIONS"});
    for (const auto& item : items) {
        const auto& s = item.as_object();
        table.add({std::string(s.at("name").as_string()), s.at("live").as_bool() ? "live" : "down",
                   std::string(s.at("iscsi_portal").as_string()), std::to_string(s.at("homed").as_int64()),
                   std::to_string(s.at("booting").as_int64()), std::to_string(s.at("capacity").as_int64()),
                   age(now - s.at("heartbeat_at").as_int64()) + " ago", held(s.at("versions").as_array())});
    }
    table.print(std::cout);
    return 0;
}

}  // namespace

void add_server_command(CLI::App& app, Action& action) {
    auto o = std::make_shared<ServerOptions>();
    auto* server = app.add_subcommand("server", "The servers sharing the catalog (serve --server-name)");
    server->require_subcommand(1);

    auto* list = server->add_subcommand(
        "list", "List servers: live or down, portal, machines homed and booting, versions held");
    add_data_option(*list, o->data, o->catalog);
    list->add_option("--server-timeout-seconds", o->timeout_seconds,
                     "Seconds without a heartbeat after which a server is down (as serve's option)")
        ->check(CLI::Range(2u, 86400u))
        ->capture_default_str();
    add_json_flag(*list, o->json);
    list->callback([o, &action] { action = [o] { return run_list(*o); }; });
}

}  // namespace bootherd::cli
