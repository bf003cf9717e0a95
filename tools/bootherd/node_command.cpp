// `bootherd node ...` and `bootherd group ...`: enrolled machines and their groups.
#include <cstdio>
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
#include "tools/bootherd/commands.hpp"
#include "tools/bootherd/store_options.hpp"

namespace bootherd::cli {
namespace {
using imagestore::store::ImageStore;

struct NodeOptions {
    std::string data = kDefaultDataDir;
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

std::int64_t image_id(ImageStore& store, const std::string& name) {
    auto image = store.catalog().session().images().find_by_name(name);
    if (!image) throw db::NotFound("image '" + name + "' does not exist");
    return image->id;
}

int run_add(const NodeOptions& o) {
    ImageStore store(o.data);
    db::NewNode node{.name = o.name, .mac = o.mac};
    if (!o.image.empty()) node.image_id = image_id(store, o.image);
    if (!o.group.empty()) {
        auto group = store.catalog().session().groups().find_by_name(o.group);
        if (!group) throw db::NotFound("group '" + o.group + "' does not exist");
        node.group_id = group->id;
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
    ImageStore store(o.data);
    auto report = store.import_nodes(text.str());
    if (!report.ok()) {
        for (const auto& p : report.problems)
            std::cerr << o.file << ":" << p.line << ": " << p.field << ": " << p.message << "\n";
        throw std::runtime_error(o.file + ": " + std::to_string(report.problems.size()) +
                                 " problem(s); no node was imported");
    }
    std::cout << "imported " << report.imported << " node(s)\n";
    return 0;
}

int run_list(const NodeOptions& o) {
    ImageStore store(o.data);
    std::printf("%-16s %-17s %-16s %-15s %-12s %-7s %-10s %-9s %-48s %s\n", "NAME", "MAC", "HOSTNAME", "IP",
                "IMAGE", "VERSION", "PERSISTENT", "STATE", "TARGET IQN", "MAINTENANCE");
    for (const auto& s : store.list_nodes()) {
        std::string version = s.disk_version ? "v" + std::to_string(*s.disk_version) : "-";
        if (s.outdated) version += " (outdated)";
        const std::string maintenance =
            s.maintenance_image
                ? "draft v" + std::to_string(*s.maintenance_version) + " of " + *s.maintenance_image
                : "-";
        std::printf("%-16s %-17s %-16s %-15s %-12s %-7s %-10s %-9s %-48s %s\n", s.node.name.c_str(),
                    s.node.mac.c_str(), s.node.effective_hostname.value_or("-").c_str(),
                    s.node.fixed_ip.value_or("-").c_str(), s.image ? s.image->c_str() : "-", version.c_str(),
                    s.node.effective_persistent ? "yes" : "no",
                    s.node.enabled ? s.node.state.c_str() : "disabled", s.node.iqn.c_str(),
                    maintenance.c_str());
    }
    return 0;
}

// key=value lines: what an iPXE script or an initiator needs to reach the node's disk.
int run_show(const NodeOptions& o) {
    ImageStore store(o.data);
    auto node = store.catalog().session().nodes().find_by_name(o.name);
    if (!node) throw db::NotFound("node '" + o.name + "' does not exist");
    auto s = store.status(*node);
    std::cout << "name=" << node->name << "\nmac=" << node->mac
              << "\nhostname=" << node->effective_hostname.value_or("")
              << "\nip=" << node->fixed_ip.value_or("") << "\nimage=" << s.image.value_or("")
              << "\nversion=" << (s.disk_version ? std::to_string(*s.disk_version) : "")
              << "\noutdated=" << (s.outdated ? "yes" : "no")
              << "\npersistent=" << (node->effective_persistent ? "yes" : "no")
              << "\nbind_address=" << (node->effective_bind_address ? "yes" : "no")
              << "\nboot_address=" << node->boot_address.value_or("") << "\ntarget=" << node->iqn
              << "\ninitiator=" << imagestore::store::node_initiator_iqn(*node)
              << "\nchap_user=" << node->chap_user << "\nchap_secret=" << node->chap_secret
              << "\ndisk=" << node->disk_path.value_or("")
              << "\nmaintenance=" << s.maintenance_image.value_or("") << "\nmaintenance_version="
              << (s.maintenance_version ? std::to_string(*s.maintenance_version) : "") << "\n";
    return 0;
}

int run_set(const NodeOptions& o) {
    ImageStore store(o.data);
    auto session = store.catalog().session();
    auto node = session.nodes().find_by_name(o.name);
    if (!node) throw db::NotFound("node '" + o.name + "' does not exist");
    db::NodeChanges changes;
    if (o.binding()) changes.bind_address = o.binding();
    if (o.hostname || o.no_hostname) changes.hostname = o.hostname;
    if (o.ip || o.no_ip) changes.fixed_ip = o.ip;
    const auto changed = session.nodes().update(node->id, changes);
    std::cout << changed.name << ": bind_address=" << (changed.effective_bind_address ? "yes" : "no")
              << " hostname=" << changed.effective_hostname.value_or("-")
              << " ip=" << changed.fixed_ip.value_or("-") << "\n";
    return 0;
}

int run_group_set(const NodeOptions& o) {
    ImageStore store(o.data);
    auto session = store.catalog().session();
    auto group = session.groups().find_by_name(o.name);
    if (!group) throw db::NotFound("group '" + o.name + "' does not exist");
    if (o.binding()) group->bind_address = *o.binding();
    const auto changed = session.groups().update(*group);
    std::cout << changed.name << ": bind_address=" << (changed.bind_address ? "yes" : "no") << "\n";
    return 0;
}

CLI::App* subcommand(CLI::App& parent, const char* name, const char* help, NodeOptions& o,
                     DataDirUse use = DataDirUse::existing) {
    auto* cmd = parent.add_subcommand(name, help);
    add_data_option(*cmd, o.data, use);
    return cmd;
}

}  // namespace

void add_node_command(CLI::App& app, Action& action) {
    auto o = std::make_shared<NodeOptions>();
    auto* node = app.add_subcommand("node", "Enrolled machines");
    node->require_subcommand(1);

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
    add_binding_flags(*set, *o);
    add_identity_options(*set, *o, true);
    set->callback([o, &action] { action = [o] { return run_set(*o); }; });

    auto* import = subcommand(
        *node, "import", "Enrol machines from a CSV file (name,mac,image,group,persistent,hostname,ip)", *o);
    import->add_option("FILE", o->file, "CSV file")->required();
    import->callback([o, &action] { action = [o] { return run_import(*o);
};
}  // namespace bootherd::cli
);

auto* list = subcommand(*node, "list", "List machines with their image version", *o);
list->callback([o, &action] { action = [o] { return run_list(*o); }; });

auto* show = subcommand(*node, "show", "Print a machine's iSCSI identity and disk as key=value lines", *o);
show->add_option("NAME", o->name, "Node name")->required();
show->callback([o, &action] { action = [o] { return run_show(*o); }; });

auto* reset = subcommand(*node, "reset", "Give a machine a fresh disk on the promoted version", *o);
reset->add_option("NAME", o->name, "Node name")->required();
reset->callback([o, &action] {
    action = [o] {
        ImageStore store(o->data);
        auto n = store.reset_node(o->name);
        std::cout << "reset " << n.name << ": new disk " << n.disk_path.value_or("-") << "\n";
        return 0;
    };
});

auto* remove = subcommand(*node, "remove", "Remove a machine and its disk", *o);
remove->add_option("NAME", o->name, "Node name")->required();
remove->callback([o, &action] {
    action = [o] {
        ImageStore store(o->data);
        store.remove_node(o->name);
        std::cout << "removed " << o->name << "\n";
        return 0;
    };
});
add_node_boot_commands(*node, action);
}

void add_group_command(CLI::App& app, Action& action) {
    auto o = std::make_shared<NodeOptions>();
    auto* group = app.add_subcommand("group", "Groups of machines sharing an image and persistence default");
    group->require_subcommand(1);
    auto* add = subcommand(*group, "add", "Create a group", *o, DataDirUse::create);
    add->add_option("NAME", o->name, "Group name")->required();
    add->add_option("--image", o->image, "Default image of its members");
    add->add_flag("--persistent", o->persistent, "Members keep their disks across boots by default");
    add_binding_flags(*add, *o);
    add->callback([o, &action] {
        action = [o] {
            ImageStore store(o->data);
            db::Group g{
                .name = o->name, .persistent = o->persistent, .bind_address = o->binding().value_or(true)};
            if (!o->image.empty()) g.image_id = image_id(store, o->image);
            auto created = store.catalog().session().groups().create(g);
            std::cout << "created group " << created.name << "\n";
            return 0;
        };
    });
    auto* set = subcommand(*group, "set", "Change a group's settings", *o);
    set->add_option("NAME", o->name, "Group name")->required();
    add_binding_flags(*set, *o);
    set->callback([o, &action] { action = [o] { return run_group_set(*o); }; });
}

}  // namespace bootherd::cli
