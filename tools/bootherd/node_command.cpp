// `bootherd node ...`: enrolled machines.
#include <cctype>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "db/error.hpp"
#include "imagestore/store/catalog_targets.hpp"
#include "imagestore/store/image_store.hpp"
#include "tools/bootherd/boot_node_commands.hpp"
#include "tools/bootherd/cli_lookup.hpp"
#include "tools/bootherd/cli_output.hpp"
#include "tools/bootherd/commands.hpp"
#include "tools/bootherd/store_options.hpp"
#include "web/api/render.hpp"

namespace bootherd::cli {
namespace {
using imagestore::store::ImageStore;

struct NodeOptions {
    std::string data = kDefaultDataDir;
    std::string catalog{};
    std::string name;
    std::string mac;
    std::string image;
    std::string group;
    std::string file;
    bool persistent = false;
    bool bind_address = false;
    bool no_bind_address = false;
    std::optional<std::string> hostname;
    bool no_hostname = false;
    std::optional<std::string> ip;
    bool no_ip = false;
    // node set: what PATCH /api/v1/nodes/{name} can change
    bool no_image = false;
    bool no_group = false;
    bool not_persistent = false;
    bool group_persistence = false;
    bool enable = false;
    bool disable = false;
    std::optional<std::string> new_mac;
    std::optional<std::string> new_name;
    bool json = false;
    bool yes = false;
    bool dry_run = false;
    // nullopt: neither flag given
    std::optional<bool> binding() const {
        if (bind_address) return true;
        if (no_bind_address) return false;
        return std::nullopt;
    }
};

constexpr const char* bind_help =
    "Serve its boot script and admit its iSCSI logins only from the address tied to its MAC (the default)";
constexpr const char* no_bind_help =
    "Serve its boot script and admit its iSCSI logins from any address (routed or NAT'd clients): then only "
    "its CHAP secret protects its disk, and anyone who can fetch its script learns it";

void add_binding_flags(CLI::App& cmd, NodeOptions& o) {
    auto* on = cmd.add_flag("--bind-address", o.bind_address, bind_help);
    cmd.add_flag("--no-bind-address", o.no_bind_address, no_bind_help)->excludes(on);
}

constexpr const char* hostname_help =
    "Host name (RFC 1123) handed out by full DHCP (option 12) and set in the boot script, so the OS finds it "
    "in "
    "the iBFT (default: the node name, when it is a valid host name)";
constexpr const char* ip_help =
    "Fixed IPv4 address full DHCP always hands this machine (carved out of the dynamic range if inside it)";

// The identity options; `set` also gets the flags that clear them.
void add_identity_options(CLI::App& cmd, NodeOptions& o, bool clearable) {
    auto* hostname = cmd.add_option("--hostname", o.hostname, hostname_help);
    auto* ip = cmd.add_option("--ip", o.ip, ip_help);
    if (!clearable) return;
    cmd.add_flag("--no-hostname", o.no_hostname, "Drop its host name (it goes by its node name again)")
        ->excludes(hostname);
    cmd.add_flag("--no-ip", o.no_ip, "Drop its fixed address (it takes one from the dynamic range)")
        ->excludes(ip);
}

int run_add(const NodeOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    db::NewNode node{.name = o.name, .mac = o.mac};
    {
        auto session = store.catalog().session();
        if (!o.image.empty()) node.image_id = image_id(session, o.image);
        if (!o.group.empty()) node.group_id = group_id(session, o.group);
    }
    if (o.persistent) node.persistent = true;
    node.bind_address = o.binding();
    node.hostname = o.hostname;
    node.fixed_ip = o.ip;
    auto added = store.add_node(node);
    std::cout << "enrolled " << added.name << " (" << added.mac << ") as " << added.iqn
              << (added.disk_path ? ", disk " + *added.disk_path : std::string(", disk at first boot"))
              << (added.effective_hostname ? ", host name " + *added.effective_hostname : std::string())
              << (added.fixed_ip ? ", address " + *added.fixed_ip : std::string()) << "\n";
    return 0;
}

int run_import(const NodeOptions& o) {
    std::ifstream in(o.file, std::ios::binary);
    if (!in) throw std::runtime_error(o.file + ": cannot read");
    std::ostringstream text;
    text << in.rdbuf();
    ImageStore store(o.data, {}, o.catalog);
    // --dry-run: every row checked as the import would, nothing written.
    auto report = o.dry_run ? store.catalog().session().nodes().import_csv(text.str(), true)
                            : store.import_nodes(text.str());
    if (!report.ok()) {
        for (const auto& p : report.problems)
            std::cerr << o.file << ":" << p.line << ": " << p.field << ": " << p.message << "\n";
        throw std::runtime_error(o.file + ": " + std::to_string(report.problems.size()) +
                                 " problem(s); no node was imported");
    }
    if (o.dry_run)
        std::cout << report.rows << " row(s) would be imported; nothing changed (dry run)\n";
    else
        std::cout << "imported " << report.imported << " node(s)\n";
    return 0;
}

// Every node as GET /api/v1/nodes renders it, ordered by name.
boost::json::array rendered_nodes(ImageStore& store) {
    auto session = store.catalog().session();
    web::Renderer renderer(session, store.data_dir());
    // Each node's "status" is boots::machine_status (through Renderer::status), as the API and the
    // dashboard give it: one query for every node's newest boot.
    renderer.load_latest_boots();
    boost::json::array items;
    db::NodeFilter filter{.limit = 10000};
    for (;;) {
        const auto page = session.nodes().list(filter);
        for (const auto& node : page.nodes)
            items.push_back(renderer.node(node));
        filter.offset += static_cast<std::int64_t>(page.nodes.size());
        if (page.nodes.empty() || filter.offset >= page.total) break;
    }
    return items;
}

std::string text_or_dash(const boost::json::value& value) {
    if (value.is_string()) return std::string(value.as_string());
    if (value.is_int64()) return std::to_string(value.as_int64());
    return "-";
}

int run_list(const NodeOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    auto items = rendered_nodes(store);
    if (o.json) {
        const auto total = items.size();
        print_json(std::cout, boost::json::object{{"total", total}, {"items", std::move(items)}});
        return 0;
    }
    Table table({"NAME", "MAC", "HOSTNAME", "IP", "GROUP", "IMAGE", "VERSION", "PERSISTENT", "STATUS",
                 "LAST SEEN", "MAINTENANCE"});
    for (const auto& item : items) {
        const auto& n = item.as_object();
        std::string version =
            n.at("disk_version").is_null() ? "-" : "v" + std::to_string(n.at("disk_version").as_int64());
        if (n.at("outdated").as_bool()) version += " (outdated)";
        std::string maintenance = "-";
        if (const auto& m = n.at("maintenance"); m.is_object())
            maintenance = "draft v" + std::to_string(m.at("version").as_int64()) + " of " +
                          std::string(m.at("image").as_string());
        const auto& last_seen = n.at("last_seen");
        table.add({text_or_dash(n.at("name")), text_or_dash(n.at("mac")),
                   text_or_dash(n.at("effective_hostname")), text_or_dash(n.at("fixed_ip")),
                   text_or_dash(n.at("group")), text_or_dash(n.at("image")), version,
                   n.at("persistent").as_bool() ? "yes" : "no",
                   n.at("enabled").as_bool() ? text_or_dash(n.at("status")) : "disabled",
                   local_time(last_seen.is_null() ? std::nullopt : std::optional(last_seen.as_int64())),
                   maintenance});
    }
    table.print(std::cout);
    return 0;
}

db::Node require_node(db::Catalog::Session& session, const std::string& name) {
    auto node = session.nodes().find_by_name(name);
    if (!node) throw db::NotFound("node '" + name + "' does not exist");
    return *node;
}

// key=value lines: what an iPXE script or an initiator needs to reach the node's disk. --json: the node as
// GET /api/v1/nodes/{name} renders it.
int run_show(const NodeOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    db::Node node;
    std::string status;
    {
        auto session = store.catalog().session();
        node = require_node(session, o.name);
        web::Renderer renderer(session, store.data_dir());
        if (o.json) {
            print_json(std::cout, renderer.node(node));
            return 0;
        }
        status = boots::to_string(renderer.status(node));
    }
    auto s = store.status(node);
    std::cout << "name=" << node.name << "\nmac=" << node.mac << "\nstatus=" << status
              << "\nhostname=" << node.effective_hostname.value_or("")
              << "\nip=" << node.fixed_ip.value_or("") << "\nimage=" << s.image.value_or("")
              << "\nversion=" << (s.disk_version ? std::to_string(*s.disk_version) : "")
              << "\noutdated=" << (s.outdated ? "yes" : "no")
              << "\npersistent=" << (node.effective_persistent ? "yes" : "no")
              << "\nenabled=" << (node.enabled ? "yes" : "no")
              << "\nbind_address=" << (node.effective_bind_address ? "yes" : "no")
              << "\nboot_address=" << node.boot_address.value_or("") << "\ntarget=" << node.iqn
              << "\ninitiator=" << imagestore::store::node_initiator_iqn(node)
              << "\nchap_user=" << node.chap_user << "\nchap_secret=" << node.chap_secret
              << "\ndisk=" << node.disk_path.value_or("")
              << "\nmaintenance=" << s.maintenance_image.value_or("") << "\nmaintenance_version="
              << (s.maintenance_version ? std::to_string(*s.maintenance_version) : "") << "\n";
    return 0;
}

// The changes PATCH /api/v1/nodes/{name} can make, from the flags given.
db::NodeChanges node_changes(db::Catalog::Session& session, const NodeOptions& o) {
    db::NodeChanges changes;
    if (o.binding()) changes.bind_address = o.binding();
    if (o.hostname || o.no_hostname) changes.hostname = o.hostname;
    if (o.ip || o.no_ip) changes.fixed_ip = o.ip;
    if (!o.image.empty()) changes.image_id = image_id(session, o.image);
    if (o.no_image) changes.image_id = std::optional<std::int64_t>{};
    if (!o.group.empty()) changes.group_id = group_id(session, o.group);
    if (o.no_group) changes.group_id = std::optional<std::int64_t>{};
    if (o.persistent) changes.persistent = std::optional<bool>(true);
    if (o.not_persistent) changes.persistent = std::optional<bool>(false);
    if (o.group_persistence) changes.persistent = std::optional<bool>{};
    if (o.enable) changes.enabled = true;
    if (o.disable) changes.enabled = false;
    changes.mac = o.new_mac;
    changes.name = o.new_name;
    return changes;
}

int run_set(const NodeOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    db::Node before, changed;
    {
        auto session = store.catalog().session();
        before = require_node(session, o.name);
        changed = session.nodes().update(before.id, node_changes(session, o));
    }
    // As the API does: a machine whose image changed gets a fresh disk on it.
    if (changed.effective_image_id != before.effective_image_id && changed.effective_image_id)
        changed = store.reset_node(changed.name);
    auto session = store.catalog().session();
    web::Renderer renderer(session, store.data_dir());
    std::cout << changed.name << ": image=" << renderer.image_name(changed.effective_image_id).value_or("-")
              << " group=" << renderer.group_name(changed.group_id).value_or("-")
              << " persistent=" << (changed.effective_persistent ? "yes" : "no")
              << " enabled=" << (changed.enabled ? "yes" : "no")
              << " bind_address=" << (changed.effective_bind_address ? "yes" : "no")
              << " hostname=" << changed.effective_hostname.value_or("-")
              << " ip=" << changed.fixed_ip.value_or("-") << "\n";
    return 0;
}

int run_reset(const NodeOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    const auto node = [&] {
        auto session = store.catalog().session();
        return require_node(session, o.name);
    }();
    // A persistent machine's disk holds its own data: that is lost.
    if (node.effective_persistent &&
        !confirm("reset persistent machine " + node.name + ": its disk and everything written to it is lost",
                 o.yes)) {
        std::cout << "nothing reset\n";
        return 1;
    }
    auto n = store.reset_node(o.name);
    std::cout << "reset " << n.name << ": new disk " << n.disk_path.value_or("-") << "\n";
    return 0;
}

int run_remove(const NodeOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    {
        auto session = store.catalog().session();
        require_node(session, o.name);
    }
    if (!confirm("remove machine " + o.name + " and its disk", o.yes)) {
        std::cout << "nothing removed\n";
        return 1;
    }
    store.remove_node(o.name);
    std::cout << "removed " << o.name << "\n";
    return 0;
}

// Enrols a MAC that PXE-booted here unenrolled (`node discovered`), as POST /api/v1/discovered/enroll does.
int run_enrol(const NodeOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    {
        auto session = store.catalog().session();
        auto lower = [](std::string text) {
            for (auto& c : text)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            return text;
        };
        bool discovered = false;
        for (const auto& seen : session.discovered().list(true))
            discovered = discovered || lower(seen.mac) == lower(o.mac);
        if (!discovered)
            throw db::NotFound(
                "no unenrolled machine with MAC " + o.mac +
                " was discovered (`bootherd node discovered`; `bootherd node add` enrols any)");
    }
    return run_add(o);
}

CLI::App* subcommand(CLI::App& parent, const char* name, const char* help, NodeOptions& o,
                     DataDirUse use = DataDirUse::existing) {
    auto* cmd = parent.add_subcommand(name, help);
    add_data_option(*cmd, o.data, o.catalog, use);
    return cmd;
}

}  // namespace

void add_node_command(CLI::App& app, Action& action) {
    auto o = std::make_shared<NodeOptions>();
    auto* node = app.add_subcommand("node", "Enrolled machines");
    node->require_subcommand(1);

    auto* list = subcommand(*node, "list", "List machines with their image version and status", *o);
    add_json_flag(*list, o->json);
    list->callback([o, &action] { action = [o] { return run_list(*o); }; });

    auto* show =
        subcommand(*node, "show", "Print a machine's iSCSI identity and disk as key=value lines", *o);
    show->add_option("NAME", o->name, "Node name")->required();
    add_json_flag(*show, o->json);
    show->callback([o, &action] { action = [o] { return run_show(*o); }; });

    auto* add = subcommand(*node, "add", "Enrol a machine and create its disk", *o, DataDirUse::create);
    add->add_option("NAME", o->name, "Node name")->required();
    add->add_option("--mac", o->mac, "MAC address")->required();
    add->add_option("--image", o->image, "Image it boots (default: its group's)");
    add->add_option("--group", o->group, "Group");
    add->add_flag("--persistent", o->persistent, "Keep its disk across boots");
    add_binding_flags(*add, *o);
    add_identity_options(*add, *o, false);
    add->callback([o, &action] { action = [o] { return run_add(*o); }; });

    auto* set = subcommand(*node, "set", "Change a machine's settings", *o);
    set->add_option("NAME", o->name, "Node name")->required();
    auto* image = set->add_option("--image", o->image, "Image it boots (a fresh disk on it at once)");
    set->add_flag("--no-image", o->no_image, "Boot its group's image")->excludes(image);
    auto* group = set->add_option("--group", o->group, "Move it to this group");
    set->add_flag("--no-group", o->no_group, "Take it out of its group")->excludes(group);
    auto* persistent = set->add_flag("--persistent", o->persistent, "Keep its disk across boots");
    auto* not_persistent = set->add_flag("--no-persistent", o->not_persistent, "A fresh disk at every boot")
                               ->excludes(persistent);
    set->add_flag("--group-persistence", o->group_persistence, "Persistent as its group is")
        ->excludes(persistent)
        ->excludes(not_persistent);
    auto* enable = set->add_flag("--enable", o->enable, "Let it boot");
    set->add_flag("--disable", o->disable, "Refuse its boots and iSCSI logins")->excludes(enable);
    set->add_option("--mac", o->new_mac, "New MAC address");
    set->add_option("--rename", o->new_name, "New node name");
    add_binding_flags(*set, *o);
    add_identity_options(*set, *o, true);
    set->callback([o, &action] { action = [o] { return run_set(*o); }; });

    auto* import = subcommand(
        *node, "import", "Enrol machines from a CSV file (name,mac,image,group,persistent,hostname,ip)", *o);
    import->add_option("FILE", o->file, "CSV file")->required();
    import->add_flag("--dry-run", o->dry_run, "Check every row and change nothing");
    import->callback([o, &action] { action = [o] { return run_import(*o);
};
}  // namespace bootherd::cli
);

auto* reset = subcommand(
    *node, "reset", "Give a machine a fresh disk on the promoted version (asks for a persistent one)", *o);
reset->add_option("NAME", o->name, "Node name")->required();
add_yes_flag(*reset, o->yes);
reset->callback([o, &action] { action = [o] { return run_reset(*o); }; });

auto* remove = subcommand(*node, "remove", "Remove a machine and its disk", *o);
remove->add_option("NAME", o->name, "Node name")->required();
add_yes_flag(*remove, o->yes);
remove->callback([o, &action] { action = [o] { return run_remove(*o); }; });

auto* enrol = subcommand(*node, "enrol", "Enrol a discovered machine (see `node discovered`)", *o);
enrol->add_option("MAC", o->mac, "Its MAC address, as `node discovered` lists it")->required();
enrol->add_option("NAME", o->name, "Node name")->required();
enrol->add_option("--image", o->image, "Image it boots (default: its group's)");
enrol->add_option("--group", o->group, "Group");
enrol->add_flag("--persistent", o->persistent, "Keep its disk across boots");
add_identity_options(*enrol, *o, false);
enrol->callback([o, &action] { action = [o] { return run_enrol(*o); }; });

add_node_boot_commands(*node, action);
}

}  // namespace bootherd::cli
