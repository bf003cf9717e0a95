// `bootherd group ...`: groups of machines sharing a default image, persistence and address binding.
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "imagestore/store/image_store.hpp"
#include "tools/bootherd/cli_lookup.hpp"
#include "tools/bootherd/cli_output.hpp"
#include "tools/bootherd/commands.hpp"
#include "tools/bootherd/store_options.hpp"
#include "web/api/render.hpp"

namespace bootherd::cli {
namespace {
using imagestore::store::ImageStore;

struct GroupOptions {
    std::string data = kDefaultDataDir;
    std::string catalog{};
    std::string name;
    std::string image;
    bool no_image = false;
    bool persistent = false;
    bool not_persistent = false;
    bool bind_address = false;
    bool no_bind_address = false;
    std::optional<std::string> description;
    std::optional<std::string> new_name;
    bool json = false;
    bool yes = false;
};

int run_list(const GroupOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    auto session = store.catalog().session();
    web::Renderer renderer(session, store.data_dir());
    boost::json::array items;
    for (const auto& group : session.groups().list())
        items.push_back(renderer.group(group));
    if (o.json) {
        print_json(std::cout, boost::json::object{{"items", std::move(items)}});
        return 0;
    }
    Table table({"NAME", "IMAGE", "PERSISTENT", "BIND ADDRESS", "NODES", "DESCRIPTION"});
    for (const auto& item : items) {
        const auto& g = item.as_object();
        table.add({std::string(g.at("name").as_string()),
                   g.at("image").is_null() ? "-" : std::string(g.at("image").as_string()),
                   g.at("persistent").as_bool() ? "yes" : "no", g.at("bind_address").as_bool() ? "yes" : "no",
                   std::to_string(g.at("nodes").to_number<std::int64_t>()),
                   std::string(g.at("description").as_string())});
    }
    table.print(std::cout);
    return 0;
}

// The group as GET /api/v1/groups lists it, plus "members": its machines' names.
int run_show(const GroupOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    auto session = store.catalog().session();
    const auto group = require_group(session, o.name);
    web::Renderer renderer(session, store.data_dir());
    auto shown = renderer.group(group);
    boost::json::array members;
    db::NodeFilter filter{.group_id = group.id, .limit = 10000};
    for (;;) {
        const auto page = session.nodes().list(filter);
        for (const auto& node : page.nodes)
            members.push_back(boost::json::string(node.name));
        filter.offset += static_cast<std::int64_t>(page.nodes.size());
        if (page.nodes.empty() || filter.offset >= page.total) break;
    }
    shown["members"] = members;
    if (o.json) {
        print_json(std::cout, shown);
        return 0;
    }
    std::cout << "group " << group.name << "\nimage: " << renderer.image_name(group.image_id).value_or("-")
              << "\npersistent: " << (group.persistent ? "yes" : "no")
              << "\nbind address: " << (group.bind_address ? "yes" : "no")
              << "\ndescription: " << group.description << "\nmembers (" << members.size() << "):";
    for (const auto& member : members)
        std::cout << " " << std::string(member.as_string());
    std::cout << "\n";
    return 0;
}

int run_add(const GroupOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    auto session = store.catalog().session();
    db::Group group{.name = o.name,
                    .persistent = o.persistent,
                    .description = o.description.value_or(""),
                    .bind_address = !o.no_bind_address};
    if (!o.image.empty()) group.image_id = image_id(session, o.image);
    const auto created = session.groups().create(group);
    std::cout << "created group " << created.name << "\n";
    return 0;
}

int run_set(const GroupOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    auto session = store.catalog().session();
    auto group = require_group(session, o.name);
    if (!o.image.empty()) group.image_id = image_id(session, o.image);
    if (o.no_image) group.image_id.reset();
    if (o.persistent) group.persistent = true;
    if (o.not_persistent) group.persistent = false;
    if (o.bind_address) group.bind_address = true;
    if (o.no_bind_address) group.bind_address = false;
    if (o.description) group.description = *o.description;
    if (o.new_name) group.name = *o.new_name;
    const auto changed = session.groups().update(group);
    web::Renderer renderer(session, store.data_dir());
    std::cout << changed.name << ": image=" << renderer.image_name(changed.image_id).value_or("-")
              << " persistent=" << (changed.persistent ? "yes" : "no")
              << " bind_address=" << (changed.bind_address ? "yes" : "no") << "\n";
    return 0;
}

int run_remove(const GroupOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    std::int64_t members = 0;
    db::Group group;
    {
        auto session = store.catalog().session();
        group = require_group(session, o.name);
        members = session.nodes().list(db::NodeFilter{.group_id = group.id, .limit = 1}).total;
    }
    if (!confirm("remove group " + o.name + " (its " + std::to_string(members) +
                     " machine(s) stay, without a group)",
                 o.yes)) {
        std::cout << "nothing removed\n";
        return 1;
    }
    store.catalog().session().groups().remove(group.id);
    std::cout << "removed group " << o.name << "\n";
    return 0;
}

CLI::App* named_subcommand(CLI::App& parent, const char* name, const char* help, GroupOptions& o,
                           DataDirUse use = DataDirUse::existing) {
    auto* cmd = parent.add_subcommand(name, help);
    add_data_option(*cmd, o.data, o.catalog, use);
    cmd->add_option("NAME", o.name, "Group name")->required();
    return cmd;
}

void add_binding_flags(CLI::App& cmd, GroupOptions& o) {
    auto* on =
        cmd.add_flag("--bind-address", o.bind_address,
                     "Members that do not choose are served only at their bound address (the default)");
    cmd.add_flag("--no-bind-address", o.no_bind_address,
                 "Members that do not choose are served from any address")
        ->excludes(on);
}

}  // namespace

void add_group_command(CLI::App& app, Action& action) {
    auto o = std::make_shared<GroupOptions>();
    auto* group = app.add_subcommand("group", "Groups of machines sharing an image and persistence default");
    group->require_subcommand(1);

    auto* list = group->add_subcommand("list", "List groups with their defaults and member count");
    add_data_option(*list, o->data, o->catalog);
    add_json_flag(*list, o->json);
    list->callback([o, &action] { action = [o] { return run_list(*o); }; });

    auto* show = named_subcommand(*group, "show", "A group's defaults and its members", *o);
    add_json_flag(*show, o->json);
    show->callback([o, &action] { action = [o] { return run_show(*o); }; });

    auto* add = named_subcommand(*group, "add", "Create a group", *o, DataDirUse::create);
    add->add_option("--image", o->image, "Default image of its members");
    add->add_flag("--persistent", o->persistent, "Members keep their disks across boots by default");
    add->add_option("--description", o->description, "What the group is for");
    add_binding_flags(*add, *o);
    add->callback([o, &action] { action = [o] { return run_add(*o); }; });

    auto* set = named_subcommand(*group, "set", "Change a group's settings", *o);
    auto* image = set->add_option("--image", o->image, "Default image of its members");
    set->add_flag("--no-image", o->no_image, "No default image")->excludes(image);
    auto* persistent = set->add_flag("--persistent", o->persistent, "Members keep their disks by default");
    set->add_flag("--no-persistent", o->not_persistent, "Members get a fresh disk at every boot by default")
        ->excludes(persistent);
    set->add_option("--description", o->description, "What the group is for");
    set->add_option("--rename", o->new_name, "New group name");
    add_binding_flags(*set, *o);
    set->callback([o, &action] { action = [o] { return run_set(*o); }; });

    auto* remove =
        named_subcommand(*group, "remove", "Delete a group; its machines stay, without a group", *o);
    add_yes_flag(*remove, o->yes);
    remove->callback([o, &action] { action = [o] { return run_remove(*o); }; });
}

}  // namespace bootherd::cli
