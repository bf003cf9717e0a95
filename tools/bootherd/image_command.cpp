// `bootherd image ...`: golden images and their versions.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "imagestore/store/catalog_targets.hpp"
#include "imagestore/store/image_store.hpp"
#include "tools/bootherd/commands.hpp"
#include "tools/bootherd/store_options.hpp"

namespace bootherd::cli {
namespace {
using imagestore::store::ImageStore;

struct ImageOptions {
    std::string data = kDefaultDataDir;
    std::string name;
    std::string file;
    std::string on;  // edit --on NODE: the draft's maintenance machine
    std::int64_t version = 0;
    int keep = 2;
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

void print_version_line(const char* what, const db::Version& v) {
    std::cout << what << " v" << v.number << " (" << human_bytes(v.size_bytes) << ", "
              << human_bytes(v.file_bytes) << " on disk)\n";
}

int run_versions(const ImageOptions& o) {
    ImageStore store(o.data);
    auto versions = store.versions(o.name);
    std::printf("%-8s %-7s %-10s %-10s %-7s %-20s %-8s %s\n", "VERSION", "STATE", "SIZE", "ON DISK", "PARENT",
                "CREATED (UTC)", "PROMOTED", "NOTE");
    for (const auto& v : versions) {
        std::string parent = "-";
        for (const auto& p : versions)
            if (v.parent_version_id && p.id == *v.parent_version_id) parent = "v" + std::to_string(p.number);
        std::printf("%-8s %-7s %-10s %-10s %-7s %-20s %-8s %s\n", ("v" + std::to_string(v.number)).c_str(),
                    std::string(db::to_string(v.state)).c_str(), human_bytes(v.size_bytes).c_str(),
                    human_bytes(v.file_bytes).c_str(), parent.c_str(), utc_time(v.created_at).c_str(),
                    v.promoted ? "*" : "", v.note.c_str());
    }
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
    ImageStore store(o.data);
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

int run_show(const ImageOptions& o) {
    ImageStore store(o.data);
    std::optional<db::Version> promoted;
    const auto versions = store.versions(o.name);
    for (const auto& v : versions)
        if (v.promoted) promoted = v;
    std::cout << "image " << o.name << ": " << versions.size() << " version(s), promoted "
              << (promoted ? "v" + std::to_string(promoted->number) : std::string("none")) << "\n";
    if (auto draft = store.draft(o.name)) {
        std::cout << "draft v" << draft->number << ": " << store.absolute(draft->file_path).string() << "\n";
        print_draft_access(o.name, *draft);
        print_maintenance(store, o.name, *draft);
    } else {
        std::cout << "no draft (`bootherd image edit " << o.name << "` makes one)\n";
    }
    return 0;
}

CLI::App* subcommand(CLI::App& image, const char* name, const char* help, ImageOptions& o,
                     DataDirUse use = DataDirUse::existing) {
    auto* cmd = image.add_subcommand(name, help);
    add_data_option(*cmd, o.data, use);
    return cmd;
}

}  // namespace

void add_image_command(CLI::App& app, Action& action) {
    auto o = std::make_shared<ImageOptions>();
    auto* image = app.add_subcommand("image", "Golden images and their versions");
    image->require_subcommand(1);

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
            ImageStore store(o->data);
    auto v = store.import_image(o->name, o->file, {.progress = progress_bar()});
    print_version_line(("imported " + o->name).c_str(), v);
    return 0;
};
}  // namespace bootherd::cli
);

auto* edit =
    subcommand(*image, "edit",
               "Create a writable draft on the promoted version, or with --on, boot a machine into the "
               "draft (made if there is none)",
               *o);
edit->add_option("NAME", o->name, "Image name")->required();
edit->add_option("--on", o->on,
                 "Node whose next boot sanboots the draft for maintenance (replaces the draft's maintenance "
                 "machine while nobody is logged in to it)");
edit->callback([o, &action] { action = [o] { return run_edit(*o); }; });

auto* show = subcommand(*image, "show", "An image's promoted version and its draft's target and CHAP", *o);
show->add_option("NAME", o->name, "Image name")->required();
show->callback([o, &action] { action = [o] { return run_show(*o); }; });

auto* commit = subcommand(*image, "commit", "Seal the draft as the next version", *o);
commit->add_option("NAME", o->name, "Image name")->required();
commit->callback([o, &action] {
    action = [o] {
        ImageStore store(o->data);
        print_version_line(("sealed " + o->name).c_str(), store.commit(o->name));
        return 0;
    };
});

auto* discard = subcommand(*image, "discard", "Drop the draft", *o);
discard->add_option("NAME", o->name, "Image name")->required();
discard->callback([o, &action] {
    action = [o] {
        ImageStore store(o->data);
        store.discard(o->name);
        std::cout << "discarded the draft of " << o->name << "\n";
        return 0;
    };
});

auto* promote = subcommand(*image, "promote", "Make a version the one new boots get", *o);
promote->add_option("NAME", o->name, "Image name")->required();
promote->add_option("VERSION", o->version, "Version number (N or vN)")
    ->required()
    ->transform([](std::string text) {
        return !text.empty() && (text[0] == 'v' || text[0] == 'V') ? text.substr(1) : text;
    });
promote->callback([o, &action] {
    action = [o] {
        ImageStore store(o->data);
        print_version_line(("promoted " + o->name).c_str(), store.promote(o->name, o->version));
        return 0;
    };
});

add_image_rollout_command(*image, action);

auto* rollback = subcommand(*image, "rollback", "Go back to the previously promoted version", *o);
rollback->add_option("NAME", o->name, "Image name")->required();
rollback->callback([o, &action] {
    action = [o] {
        ImageStore store(o->data);
        print_version_line(("rolled back " + o->name + " to").c_str(), store.rollback(o->name));
        return 0;
    };
});

auto* versions = subcommand(*image, "versions", "List the versions of an image", *o);
versions->add_option("NAME", o->name, "Image name")->required();
versions->callback([o, &action] { action = [o] { return run_versions(*o); }; });

auto* flatten = subcommand(*image, "flatten", "Merge a version's chain into a new standalone version", *o);
flatten->add_option("NAME", o->name, "Image name")->required();
flatten->add_option("VERSION", o->version, "Version number (N or vN)")
    ->required()
    ->transform([](std::string text) {
        return !text.empty() && (text[0] == 'v' || text[0] == 'V') ? text.substr(1) : text;
    });
flatten->callback([o, &action] {
    action = [o] {
        ImageStore store(o->data);
        auto v = store.flatten(o->name, o->version, progress_bar());
        print_version_line(("flattened " + o->name + " v" + std::to_string(o->version) + " into").c_str(), v);
        return 0;
    };
});

auto* gc = subcommand(*image, "gc", "Delete versions nothing uses, keeping the newest N of each image", *o);
gc->add_option("--keep", o->keep, "Sealed versions to keep per image")
    ->capture_default_str()
    ->check(CLI::NonNegativeNumber);
gc->callback([o, &action] {
    action = [o] {
        ImageStore store(o->data);
        auto removed = store.gc(o->keep);
        for (const auto& v : removed)
            std::cout << "removed " << v.file_path << "\n";
        std::cout << removed.size() << " version(s) removed\n";
        return 0;
    };
});
}

}  // namespace bootherd::cli
