#include "tools/bootherd/boot_node_commands.hpp"

#include <boost/json.hpp>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "boot/wake_on_lan.hpp"
#include "db/error.hpp"
#include "imagestore/store/image_store.hpp"
#include "tools/bootherd/cli_output.hpp"
#include "tools/bootherd/store_options.hpp"

namespace bootherd::cli {
namespace {

struct WakeOptions {
    std::string data = kDefaultDataDir;
    std::string catalog{};
    std::string name;
    std::string group;
    std::string interface;
    std::string broadcast;
    bool json = false;
};

boot::Ipv4 wake_destination(const WakeOptions& o) {
    if (!o.broadcast.empty()) {
        boost::system::error_code ec;
        const auto address = boost::asio::ip::make_address_v4(o.broadcast, ec);
        if (ec) throw std::invalid_argument("--broadcast: '" + o.broadcast + "' is not an IPv4 address");
        return address;
    }
    if (!o.interface.empty()) {
        if (const auto address = boot::interface_broadcast_address(o.interface)) return *address;
        throw std::invalid_argument("interface " + o.interface + " has no IPv4 broadcast address");
    }
    return boot::Ipv4::broadcast();
}

int run_wake(const WakeOptions& o) {
    if (o.name.empty() == o.group.empty())
        throw std::invalid_argument("give a node NAME or --group G (not both)");
    imagestore::store::ImageStore store(o.data, {}, o.catalog);
    std::vector<db::Node> nodes;
    {
        auto session = store.catalog().session();
        if (!o.name.empty()) {
            auto node = session.nodes().find_by_name(o.name);
            if (!node) throw db::NotFound("node '" + o.name + "' does not exist");
            nodes.push_back(*node);
        } else {
            const auto group = session.groups().find_by_name(o.group);
            if (!group) throw db::NotFound("group '" + o.group + "' does not exist");
            db::NodeFilter filter{.group_id = group->id, .limit = 10000};
            for (;;) {
                auto page = session.nodes().list(filter);
                nodes.insert(nodes.end(), page.nodes.begin(), page.nodes.end());
                filter.offset += static_cast<std::int64_t>(page.nodes.size());
                if (page.nodes.empty() || filter.offset >= page.total) break;
            }
        }
    }
    const boot::Ipv4 destination = wake_destination(o);
    for (const auto& node : nodes) {
        const auto mac = boot::MacAddress::parse(node.mac);
        if (!mac) throw std::runtime_error("node " + node.name + " has an unreadable MAC '" + node.mac + "'");
        boot::send_magic_packet(*mac, destination, o.interface);
        std::cout << "woke " << node.name << " (" << node.mac << ") via " << destination.to_string() << "\n";
    }
    if (nodes.empty()) std::cout << "group " << o.group << " has no nodes\n";
    return 0;
}

// As GET /api/v1/discovered lists them, most recently seen first.
int run_discovered(const std::string& data, const std::string& catalog, bool json) {
    imagestore::store::ImageStore store(data, {}, catalog);
    const auto seen = store.catalog().session().discovered().list(true);
    if (json) {
        boost::json::array items;
        for (const auto& d : seen)
            items.push_back({{"mac", d.mac},
                             {"first_seen", d.first_seen},
                             {"last_seen", d.last_seen},
                             {"client_arch", d.arch},
                             {"vendor_class", d.vendor_class},
                             {"seen_count", d.seen_count}});
        print_json(std::cout, boost::json::object{{"items", std::move(items)}});
        return 0;
    }
    Table table({"MAC", "ARCH", "SEEN", "VENDOR CLASS", "FIRST SEEN", "LAST SEEN"});
    for (const auto& d : seen)
        table.add({d.mac, d.arch.empty() ? "-" : d.arch, std::to_string(d.seen_count),
                   d.vendor_class.empty() ? "-" : d.vendor_class, local_time(d.first_seen),
                   local_time(d.last_seen)});
    table.print(std::cout);
    return 0;
}

}  // namespace

void add_node_boot_commands(CLI::App& node, Action& action) {
    auto o = std::make_shared<WakeOptions>();
    auto* wake = node.add_subcommand("wake", "Send Wake-on-LAN magic packets to a machine or a group");
    add_data_option(*wake, o->data, o->catalog);
    wake->add_option("NAME", o->name, "Node name");
    wake->add_option("--group", o->group, "Wake every node of this group");
    wake->add_option("--interface", o->interface,
                     "Send through this interface (default: the routing table's)");
    wake->add_option("--broadcast", o->broadcast, "Destination (default: the interface's broadcast address)");
    wake->callback([o, &action] { action = [o] { return run_wake(*o); }; });

    auto* discovered = node.add_subcommand("discovered", "PXE clients seen on the network and not enrolled");
    add_data_option(*discovered, o->data, o->catalog);
    add_json_flag(*discovered, o->json);
    discovered->callback(
        [o, &action] { action = [o] { return run_discovered(o->data, o->catalog, o->json); }; });
}

}  // namespace bootherd::cli
