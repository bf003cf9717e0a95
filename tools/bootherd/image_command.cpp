// `bootherd image ...`: golden images and their versions.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "db/error.hpp"
#include "imagestore/store/catalog_targets.hpp"
#include "imagestore/store/image_store.hpp"
#include "tools/bootherd/cli_output.hpp"
#include "tools/bootherd/commands.hpp"
#include "tools/bootherd/store_options.hpp"
#include "web/api/image_summary.hpp"
#include "web/api/render.hpp"

namespace bootherd::cli {
namespace {
using imagestore::store::ImageStore;

struct ImageOptions {
    std::string data = kDefaultDataDir;
    std::string catalog{};
    std::string name;
    std::string file;
    std::string on;  // edit --on NODE: the draft's maintenance machine
    std::int64_t version = 0;
    int keep = 2;
    bool json = false;
    bool yes = false;
    bool dry_run = false;
};

// A bar on a terminal, nothing otherwise (logs and pipes stay clean).
imagestore::store::Progress progress_bar() {
    if (!::isatty(STDOUT_FILENO)) return {};
    return [last = -1](std::uint64_t done, std::uint64_t total) mutable {
        const int percent = total ? static_cast<int>(done * 100 / total) : 100;
        if (percent == last) return;
        last = percent;
        const int width = 40, filled = percent * width / 100;
        std::printf("\r[%s%s] %3d%%", std::string(static_cast<std::size_t>(filled), '#').c_str(),
                    std::string(static_cast<std::size_t>(width - filled), ' ').c_str(), percent);
        if (done >= total) std::printf("\n");
        std::fflush(stdout);
    };
}

std::string strip_v(std::string text) {
    return !text.empty() && (text[0] == 'v' || text[0] == 'V') ? text.substr(1) : text;
}

std::string version_name(const boost::json::value& number) {
    return number.is_null() ? "-" : "v" + std::to_string(number.as_int64());
}

std::optional<std::int64_t> optional_ms(const boost::json::value& value) {
    if (value.is_null()) return std::nullopt;
    return value.as_int64();
}

void print_version_line(const char* what, const db::Version& v) {
    std::cout << what << " v" << v.number << " (" << human_bytes(v.size_bytes) << ", "
              << human_bytes(v.file_bytes) << " on disk)\n";
}

db::Image require_image(db::Catalog::Session& session, const std::string& name) {
    auto image = session.images().find_by_name(name);
    if (!image) throw db::NotFound("image '" + name + "' does not exist");
    return *image;
}

// {"items": sealed versions, "draft": the draft with its target and CHAP, or null}: GET .../versions.
boost::json::object versions_json(ImageStore& store, db::Catalog::Session& session, const db::Image& image) {
    web::Renderer renderer(session, store.data_dir());
    boost::json::array items;
    boost::json::value draft = nullptr;
    for (const auto& version : session.versions().list(image.id)) {
        auto rendered = renderer.version(version);
        if (version.state != db::VersionState::draft) {
            items.push_back(std::move(rendered));
            continue;
        }
        rendered["target"] = imagestore::store::draft_iqn(image.name);
        if (version.chap_user && version.chap_secret)
            rendered["chap"] = {{"user", *version.chap_user}, {"secret", *version.chap_secret}};
        else
            rendered["chap"] = nullptr;
        draft = std::move(rendered);
    }
    return {{"items", std::move(items)}, {"draft", std::move(draft)}};
}

int run_list(const ImageOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    auto session = store.catalog().session();
    boost::json::array items;
    for (const auto& image : session.images().list())
        items.push_back(web::image_summary(session, image));
    if (o.json) {
        print_json(std::cout, boost::json::object{{"items", std::move(items)}});
        return 0;
    }
    Table table({"NAME", "PROMOTED", "VERSIONS", "DRAFT", "SIZE", "ON DISK", "CREATED", "DESCRIPTION"});
    for (const auto& item : items) {
        const auto& i = item.as_object();
        table.add({std::string(i.at("name").as_string()), version_name(i.at("promoted_version")),
                   std::to_string(i.at("versions").to_number<std::int64_t>()),
                   i.at("draft").as_bool() ? "yes" : "no", human_bytes(i.at("size_bytes").as_int64()),
                   human_bytes(i.at("file_bytes").as_int64()), local_time(i.at("created").as_int64()),
                   std::string(i.at("description").as_string())});
    }
    table.print(std::cout);
    return 0;
}

void print_versions_table(const boost::json::object& versions) {
    Table table({"VERSION", "STATE", "SIZE", "ON DISK", "PARENT", "CREATED", "PROMOTED", "NOTE"});
    auto add = [&table](const boost::json::object& v) {
        table.add({version_name(v.at("number")), std::string(v.at("state").as_string()),
                   human_bytes(v.at("size_bytes").as_int64()), human_bytes(v.at("file_bytes").as_int64()),
                   version_name(v.at("parent")), local_time(optional_ms(v.at("created"))),
                   v.at("promoted").as_bool() ? "*" : "", std::string(v.at("note").as_string())});
    };
    for (const auto& v : versions.at("items").as_array())
        add(v.as_object());
    if (versions.at("draft").is_object()) add(versions.at("draft").as_object());
    table.print(std::cout);
}

int run_versions(const ImageOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    auto session = store.catalog().session();
    const auto versions = versions_json(store, session, require_image(session, o.name));
    if (o.json)
        print_json(std::cout, versions);
    else
        print_versions_table(versions);
    return 0;
}

// Where and how a maintenance machine reaches the draft. The secret goes to the operator's terminal only.
void print_draft_access(const std::string& image, const db::Version& draft) {
    std::cout << "  target " << imagestore::store::draft_iqn(image) << " (any initiator name)\n";
    if (draft.chap_user && draft.chap_secret)
        std::cout << "  CHAP user " << *draft.chap_user << ", secret " << *draft.chap_secret << "\n";
}

// Who boots the draft, and from where its target admits it.
void print_maintenance(ImageStore& store, const std::string& image, const db::Version& draft) {
    const auto node = store.maintenance_node(draft);
    if (!node) {
        std::cout << "  no maintenance machine (`bootherd image edit " << image
                  << " --on NODE` boots one into it)\n";
        return;
    }
    std::cout << "  maintenance machine: node " << node->name << " (initiator "
              << imagestore::store::node_initiator_iqn(*node) << ", from "
              << (!node->effective_bind_address
                      ? std::string("any address")
                      : node->boot_address.value_or("its boot address, once it has one"))
              << "); the draft target admits it alone\n";
}

int run_edit(const ImageOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    if (o.on.empty()) {
        auto v = store.edit(o.name);
        std::cout << "draft v" << v.number << " of " << o.name << ": " << store.absolute(v.file_path).string()
                  << "\n";
        print_draft_access(o.name, v);
        return 0;
    }
    const auto m = store.maintain(o.name, o.on);
    std::cout << (m.draft_created ? "draft v" : "existing draft v") << m.draft.number << " of " << o.name
              << ": " << store.absolute(m.draft.file_path).string() << "\n";
    print_draft_access(o.name, m.draft);
    print_maintenance(store, o.name, m.draft);
    std::cout << "node " << m.node.name << " boots this draft at its next boot; `bootherd image commit "
              << o.name << "` once it is shut down\n";
    return 0;
}

// The image as GET /api/v1/images/{name} answers it, or for people: its summary, versions and draft access.
int run_show(const ImageOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    boost::json::object shown;
    {
        auto session = store.catalog().session();
        const auto image = require_image(session, o.name);
        shown = web::image_summary(session, image);
        shown["versions"] = versions_json(store, session, image);
    }
    if (o.json) {
        print_json(std::cout, shown);
        return 0;
    }
    const auto& versions = shown.at("versions").as_object();
    std::cout << "image " << o.name << ": " << versions.at("items").as_array().size()
              << " sealed version(s), promoted " << version_name(shown.at("promoted_version")) << ", created "
              << local_time(shown.at("created").as_int64()) << "\n";
    if (const auto& description = shown.at("description").as_string(); !description.empty())
        std::cout << "description: " << std::string(description) << "\n";
    print_versions_table(versions);
    if (auto draft = store.draft(o.name)) {
        std::cout << "draft v" << draft->number << ": " << store.absolute(draft->file_path).string() << "\n";
        print_draft_access(o.name, *draft);
        print_maintenance(store, o.name, *draft);
    } else {
        std::cout << "no draft (`bootherd image edit " << o.name << "` makes one)\n";
    }
    return 0;
}

int run_remove(const ImageOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    const auto versions = store.versions(o.name);  // NotFound before asking
    if (!confirm("delete image " + o.name + " and its " + std::to_string(versions.size()) + " version(s)",
                 o.yes)) {
        std::cout << "nothing deleted\n";
        return 1;
    }
    store.remove_image(o.name);
    std::cout << "removed image " << o.name << " (" << versions.size() << " version(s))\n";
    return 0;
}

int run_discard(const ImageOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    const auto draft = store.draft(o.name);
    if (!draft) throw imagestore::store::StoreError("image '" + o.name + "' has no draft to discard");
    if (!confirm("discard draft v" + std::to_string(draft->number) + " of " + o.name + " and its changes",
                 o.yes)) {
        std::cout << "nothing discarded\n";
        return 1;
    }
    store.discard(o.name);
    std::cout << "discarded the draft of " << o.name << "\n";
    return 0;
}

int run_gc(const ImageOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    if (o.dry_run) {
        std::size_t count = 0;
        auto session = store.catalog().session();
        for (const auto& image : session.images().list())
            for (const auto& v : session.versions().gc_candidates(image.id, o.keep)) {
                std::cout << "would remove " << image.name << " v" << v.number << " (" << v.file_path << ", "
                          << human_bytes(v.file_bytes) << ")\n";
                ++count;
            }
        std::cout << count << " version(s) would be removed; nothing changed (dry run)\n";
        return 0;
    }
    if (!confirm("delete every unused version beyond the newest " + std::to_string(o.keep) + " of each image",
                 o.yes)) {
        std::cout << "nothing deleted\n";
        return 1;
    }
    auto removed = store.gc(o.keep);
    for (const auto& v : removed)
        std::cout << "removed " << v.file_path << "\n";
    std::cout << removed.size() << " version(s) removed\n";
    return 0;
}

CLI::App* subcommand(CLI::App& image, const char* name, const char* help, ImageOptions& o,
                     DataDirUse use = DataDirUse::existing) {
    auto* cmd = image.add_subcommand(name, help);
    add_data_option(*cmd, o.data, o.catalog, use);
    return cmd;
}

CLI::App* named_subcommand(CLI::App& image, const char* name, const char* help, ImageOptions& o) {
    auto* cmd = subcommand(image, name, help, o);
    cmd->add_option("NAME", o.name, "Image name")->required();
    return cmd;
}

void add_version_argument(CLI::App& cmd, ImageOptions& o) {
    cmd.add_option("VERSION", o.version, "Version number (N or vN)")->required()->transform(strip_v);
}

}  // namespace

void add_image_command(CLI::App& app, Action& action) {
    auto o = std::make_shared<ImageOptions>();
    auto* image = app.add_subcommand("image", "Golden images and their versions");
    image->require_subcommand(1);

    auto* list = subcommand(*image, "list", "List images with their promoted version and size", *o);
    add_json_flag(*list, o->json);
    list->callback([o, &action] { action = [o] { return run_list(*o); }; });

    auto* show =
        named_subcommand(*image, "show", "An image, its versions, and its draft's target and CHAP", *o);
    add_json_flag(*show, o->json);
    show->callback([o, &action] { action = [o] { return run_show(*o); }; });

    // Any file this account can read: whoever runs the CLI on the server can read it anyway (the REST API
    // only imports from the import directory). The image itself must not refer to other files.
    auto* import = subcommand(*image, "import",
                              "Import a raw, VHD, VHDX, qcow2 or VMDK file as a new image (v1); it must be "
                              "self-contained (no backing file, parent or extent files)",
                              *o, DataDirUse::create);
    import->add_option("NAME", o->name, "Image name")->required();
    import->add_option("FILE", o->file, "Disk image file")->required();
    import->callback([o, &action] {
        action = [o] {
            ImageStore store(o->data, {}, o->catalog);
    auto v = store.import_image(o->name, o->file, {.progress = progress_bar()});
    print_version_line(("imported " + o->name).c_str(), v);
    return 0;
};
}  // namespace bootherd::cli
);

auto* remove = named_subcommand(*image, "remove",
                                "Delete an image with all its versions (refused while anything uses it)", *o);
add_yes_flag(*remove, o->yes);
remove->callback([o, &action] { action = [o] { return run_remove(*o); }; });

auto* edit = named_subcommand(*image, "edit",
                              "Create a writable draft on the promoted version, or with --on, boot a "
                              "machine into the draft (made if there is none)",
                              *o);
edit->add_option("--on", o->on,
                 "Node whose next boot sanboots the draft for maintenance (replaces the draft's "
                 "maintenance machine while nobody is logged in to it)");
edit->callback([o, &action] { action = [o] { return run_edit(*o); }; });

auto* commit = named_subcommand(*image, "commit", "Seal the draft as the next version", *o);
commit->callback([o, &action] {
    action = [o] {
        ImageStore store(o->data, {}, o->catalog);
        print_version_line(("sealed " + o->name).c_str(), store.commit(o->name));
        return 0;
    };
});

auto* discard = named_subcommand(*image, "discard", "Drop the draft and its changes", *o);
add_yes_flag(*discard, o->yes);
discard->callback([o, &action] { action = [o] { return run_discard(*o); }; });

auto* promote = named_subcommand(*image, "promote", "Make a version the one new boots get", *o);
add_version_argument(*promote, *o);
promote->callback([o, &action] {
    action = [o] {
        ImageStore store(o->data, {}, o->catalog);
        print_version_line(("promoted " + o->name).c_str(), store.promote(o->name, o->version));
        return 0;
    };
});

add_image_rollout_command(*image, action);

auto* rollback = named_subcommand(*image, "rollback", "Go back to the previously promoted version", *o);
rollback->callback([o, &action] {
    action = [o] {
        ImageStore store(o->data, {}, o->catalog);
        print_version_line(("rolled back " + o->name + " to").c_str(), store.rollback(o->name));
        return 0;
    };
});

auto* versions = named_subcommand(*image, "versions", "List the versions of an image", *o);
add_json_flag(*versions, o->json);
versions->callback([o, &action] { action = [o] { return run_versions(*o); }; });

auto* flatten =
    named_subcommand(*image, "flatten", "Merge a version's chain into a new standalone version", *o);
add_version_argument(*flatten, *o);
flatten->callback([o, &action] {
    action = [o] {
        ImageStore store(o->data, {}, o->catalog);
        auto v = store.flatten(o->name, o->version, progress_bar());
        print_version_line(("flattened " + o->name + " v" + std::to_string(o->version) + " into").c_str(), v);
        return 0;
    };
});

auto* gc = subcommand(*image, "gc", "Delete versions nothing uses, keeping the newest N of each image", *o);
gc->add_option("--keep", o->keep, "Sealed versions to keep per image")
    ->capture_default_str()
    ->check(CLI::NonNegativeNumber);
gc->add_flag("--dry-run", o->dry_run, "Print what would be deleted and change nothing");
add_yes_flag(*gc, o->yes);
gc->callback([o, &action] { action = [o] { return run_gc(*o); }; });
}

}  // namespace bootherd::cli
