#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "db/catalog.hpp"

using namespace bootherd::db;

namespace {

// Any well-formed hash: these tests do not read files (this one is of the empty file).
constexpr std::string_view kSha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Adds and seals version N of `image` on top of `parent`.
Version sealed_version(Catalog::Session& s, const Image& image, std::optional<std::int64_t> parent) {
    auto versions = s.versions();
    const auto count = versions.list(image.id).size();
    auto draft =
        versions.add_draft({.image_id = image.id,
                            .parent_version_id = parent,
                            .file_path = "images/" + image.name + "/v" + std::to_string(count + 1) + ".vhdx",
                            .size_bytes = 64LL << 30,
                            .file_bytes = 1 << 20,
                            .note = ""});
    return versions.seal(draft.id, 2 << 20, kSha256);
}

std::vector<std::int64_t> ids(const std::vector<Version>& versions) {
    std::vector<std::int64_t> out;
    for (const auto& v : versions)
        out.push_back(v.id);
    return out;
}

}  // namespace

TEST_CASE("images: unique names, validation, description, listing") {
    auto catalog = Catalog::open_in_memory();
    auto s = catalog.session();
    auto images = s.images();
    const auto win = images.create("win11", "Windows 11 lab");
    CHECK(win.id > 0);
    CHECK(win.description == "Windows 11 lab");
    CHECK_FALSE(win.promoted_version_id.has_value());
    try {
        images.create("WIN11");
        FAIL("duplicate image name accepted");
    } catch (const Conflict& e) {
        CHECK(e.field() == "name");
    }
    CHECK_THROWS_AS(images.create("bad name"), InvalidArgument);
    images.create("debian");
    images.set_description(win.id, "changed");
    CHECK(images.get(win.id).description == "changed");
    const auto all = images.list();
    REQUIRE(all.size() == 2);
    CHECK(all[0].name == "debian");
    CHECK(images.find_by_name("Win11")->id == win.id);
    CHECK_THROWS_AS(images.get(999), NotFound);
}

TEST_CASE("versions are numbered per image and chain to sealed parents of the same image") {
    auto catalog = Catalog::open_in_memory();
    auto s = catalog.session();
    const auto a = s.images().create("a");
    const auto b = s.images().create("b");
    const auto a1 = sealed_version(s, a, std::nullopt);
    const auto b1 = sealed_version(s, b, std::nullopt);
    const auto a2 = sealed_version(s, a, a1.id);
    CHECK(a1.number == 1);
    CHECK(b1.number == 1);
    CHECK(a2.number == 2);
    CHECK(a2.parent_version_id == a1.id);
    CHECK(a2.state == VersionState::sealed);
    CHECK(a2.sealed_at.has_value());
    CHECK(a2.file_bytes == 2 << 20);

    auto versions = s.versions();
    CHECK_THROWS_AS(versions.add_draft({.image_id = a.id, .parent_version_id = b1.id, .file_path = "x.vhdx"}),
                    InvalidArgument);
    const auto draft =
        versions.add_draft({.image_id = a.id, .parent_version_id = a2.id, .file_path = "a3.vhdx"});
    CHECK_THROWS_AS(
        versions.add_draft({.image_id = a.id, .parent_version_id = draft.id, .file_path = "a4.vhdx"}),
        Conflict);
    CHECK_THROWS_AS(versions.add_draft({.image_id = a.id, .file_path = a1.file_path}), Conflict);
    CHECK_THROWS_AS(versions.add_draft({.image_id = a.id, .file_path = "/abs.vhdx"}), InvalidArgument);
    CHECK_THROWS_AS(versions.add_draft({.image_id = 999, .file_path = "z.vhdx"}), NotFound);
    CHECK(versions.find_by_number(a.id, 3)->id == draft.id);
    CHECK(versions.list(a.id).size() == 3);
}

TEST_CASE("the database refuses duplicate (image, number) and dangling foreign keys") {
    auto catalog = Catalog::open_in_memory();
    auto s = catalog.session();
    auto& db = s.database();
    const auto image = s.images().create("img");
    sealed_version(s, image, std::nullopt);
    auto duplicate = db.prepare_uncached(
        "INSERT INTO versions (image_id, number, file_path, size_bytes, created_at) VALUES (?, 1, 'other', "
        "0, 0)");
    duplicate.bind_all(image.id);
    CHECK_THROWS_AS(duplicate.run(), SqliteError);
    auto dangling = db.prepare_uncached(
        "INSERT INTO versions (image_id, number, file_path, size_bytes, created_at) VALUES (4242, 1, 'x', 0, "
        "0)");
    try {
        dangling.run();
        FAIL("foreign key not enforced");
    } catch (const SqliteError& e) {
        CHECK(e.code() == SQLITE_CONSTRAINT_FOREIGNKEY);
    }
}

TEST_CASE("a sealed version's content cannot be updated, its note can") {
    auto catalog = Catalog::open_in_memory();
    auto s = catalog.session();
    const auto image = s.images().create("img");
    auto versions = s.versions();
    const auto draft = versions.add_draft({.image_id = image.id, .file_path = "v1.vhdx", .size_bytes = 100});
    versions.update_draft_sizes(draft.id, 200, 50);
    CHECK(versions.get(draft.id).size_bytes == 200);
    const auto sealed = versions.seal(draft.id, 60, kSha256);

    // Straight SQL, bypassing the repository: the trigger is the guard.
    for (const char* sql : {"UPDATE versions SET size_bytes = 1 WHERE id = ?",
                            "UPDATE versions SET file_path = 'elsewhere' WHERE id = ?",
                            "UPDATE versions SET state = 'draft', sealed_at = NULL WHERE id = ?",
                            "UPDATE versions SET parent_version_id = NULL, number = 7 WHERE id = ?"}) {
        CAPTURE(sql);
        auto update = s.database().prepare_uncached(sql);
        update.bind_all(sealed.id);
        try {
            update.run();
            FAIL("sealed version was modified");
        } catch (const SqliteError& e) {
            CHECK(std::string(e.what()).find("sealed and immutable") != std::string::npos);
        }
    }
    CHECK(versions.get(sealed.id).size_bytes == 200);
    CHECK_THROWS_AS(versions.update_draft_sizes(sealed.id, 1, 1), Conflict);
    CHECK_THROWS_AS(versions.seal(sealed.id, 1, kSha256), Conflict);
    versions.set_note(sealed.id, "known good");
    CHECK(versions.get(sealed.id).note == "known good");
}

TEST_CASE("promote and rollback step through the history one promotion at a time") {
    auto catalog = Catalog::open_in_memory();
    auto s = catalog.session();
    auto images = s.images();
    const auto image = images.create("img");
    const auto v1 = sealed_version(s, image, std::nullopt);
    const auto v2 = sealed_version(s, image, v1.id);
    const auto v3 = sealed_version(s, image, v2.id);
    const auto draft =
        s.versions().add_draft({.image_id = image.id, .parent_version_id = v3.id, .file_path = "d"});

    SUBCASE("rollback with no history is refused") {
        CHECK_THROWS_AS(images.rollback(image.id), Conflict);
        images.promote(image.id, v1.id);
        CHECK_THROWS_AS(images.rollback(image.id), Conflict);
        CHECK(images.get(image.id).promoted_version_id == v1.id);
    }
    SUBCASE("drafts and other images' versions cannot be promoted") {
        CHECK_THROWS_AS(images.promote(image.id, draft.id), Conflict);
        const auto other = images.create("other");
        CHECK_THROWS_AS(images.promote(other.id, v1.id), InvalidArgument);
        CHECK_THROWS_AS(images.promote(image.id, 9999), NotFound);
    }
    SUBCASE("rollback twice") {
        images.promote(image.id, v1.id);
        images.promote(image.id, v2.id);
        images.promote(image.id, v2.id);  // no-op
        images.promote(image.id, v3.id);
        auto current = images.get(image.id);
        CHECK(current.promoted_version_id == v3.id);
        CHECK(current.previous_promoted_version_id == v2.id);
        CHECK(s.versions().get(v3.id).promoted);
        CHECK_FALSE(s.versions().get(v2.id).promoted);

        CHECK(images.rollback(image.id) == v2.id);
        current = images.get(image.id);
        CHECK(current.promoted_version_id == v2.id);
        CHECK(current.previous_promoted_version_id == v1.id);

        CHECK(images.rollback(image.id) == v1.id);
        current = images.get(image.id);
        CHECK(current.promoted_version_id == v1.id);
        CHECK_FALSE(current.previous_promoted_version_id.has_value());
        CHECK_THROWS_AS(images.rollback(image.id), Conflict);

        const auto history = images.promotion_history(image.id);
        REQUIRE(history.size() == 3);
        CHECK(history[0].version_id == v1.id);
        CHECK_FALSE(history[0].rolled_back_at.has_value());
        CHECK(history[1].rolled_back_at.has_value());
        CHECK(history[2].rolled_back_at.has_value());

        // Promoting again after rollbacks starts a new live entry on top of v1.
        images.promote(image.id, v3.id);
        CHECK(images.rollback(image.id) == v1.id);
    }
}

TEST_CASE("versions in use and garbage-collection candidates") {
    auto catalog = Catalog::open_in_memory();
    auto s = catalog.session();
    const auto image = s.images().create("img");
    std::vector<Version> v;  // v[0] = version 1 ... a linear chain of 6
    for (int i = 0; i < 6; ++i) {
        v.push_back(sealed_version(s, image, i == 0 ? std::nullopt : std::optional(v.back().id)));
    }
    // A side branch off version 2: version 7, sealed, parent v2.
    const auto branch = sealed_version(s, image, v[1].id);
    s.images().promote(image.id, v[2].id);
    s.images().promote(image.id, v[3].id);
    const auto draft =
        s.versions().add_draft({.image_id = image.id, .parent_version_id = v[4].id, .file_path = "d"});

    // Draft on v5 needs v5..v1; promoted v4 and previous v3 are in that chain too.
    auto in_use = s.versions().in_use_ids(image.id);
    for (int i = 0; i < 5; ++i)
        CHECK(std::binary_search(in_use.begin(), in_use.end(), v[static_cast<std::size_t>(i)].id));
    CHECK(std::binary_search(in_use.begin(), in_use.end(), draft.id));
    CHECK_FALSE(std::binary_search(in_use.begin(), in_use.end(), v[5].id));
    CHECK_FALSE(std::binary_search(in_use.begin(), in_use.end(), branch.id));

    // Keeping the newest sealed one (the branch, number 7) leaves only v6 collectable.
    CHECK(ids(s.versions().gc_candidates(image.id, 1)) == std::vector<std::int64_t>{v[5].id});
    CHECK(ids(s.versions().gc_candidates(image.id, 0)) == std::vector<std::int64_t>{branch.id, v[5].id});

    // A node whose disk sits on v6 keeps it.
    auto node = s.nodes().add({.name = "pc", .mac = "02:00:00:00:00:01"});
    s.nodes().set_disk(node.id, v[5].id, "disks/pc.vhdx");
    CHECK(ids(s.versions().gc_candidates(image.id, 0)) == std::vector<std::int64_t>{branch.id});
    CHECK_THROWS_AS(s.versions().remove(v[5].id), Conflict);
    CHECK_THROWS_AS(s.versions().remove(v[1].id), Conflict);
    s.versions().remove(branch.id);
    CHECK_FALSE(s.versions().find(branch.id).has_value());

    const auto paths = s.referenced_file_paths();
    CHECK(std::is_sorted(paths.begin(), paths.end()));
    CHECK(std::find(paths.begin(), paths.end(), "disks/pc.vhdx") != paths.end());
    CHECK(std::find(paths.begin(), paths.end(), v[0].file_path) != paths.end());
    CHECK(std::find(paths.begin(), paths.end(), branch.file_path) == paths.end());
    CHECK(paths.size() == 6 + 1 + 1);  // v1..v6, the draft, the node disk
}

TEST_CASE("deleting an image takes its versions and history, unless nodes or groups use it") {
    auto catalog = Catalog::open_in_memory();
    auto s = catalog.session();
    const auto image = s.images().create("img");
    const auto v1 = sealed_version(s, image, std::nullopt);
    const auto v2 = sealed_version(s, image, v1.id);
    s.images().promote(image.id, v1.id);
    s.images().promote(image.id, v2.id);
    const auto group = s.groups().create({.name = "lab", .image_id = image.id});
    CHECK_THROWS_AS(s.images().remove(image.id), Conflict);
    s.groups().remove(group.id);
    s.images().remove(image.id);
    CHECK_FALSE(s.images().find(image.id).has_value());
    CHECK_FALSE(s.versions().find(v1.id).has_value());
    CHECK(s.images().promotion_history(image.id).empty());
}

TEST_CASE("a draft's CHAP credentials are set while it is a draft and dropped when it is sealed") {
    auto catalog = Catalog::open_in_memory();
    auto s = catalog.session();
    const auto image = s.images().create("win11", "");
    auto versions = s.versions();
    const auto draft = versions.add_draft({.image_id = image.id, .file_path = "images/win11/v1.vhdx"});
    CHECK_FALSE(draft.chap_user);
    CHECK_FALSE(draft.chap_secret);
    versions.set_chap(draft.id, "maint-user", "maint-secret-123");
    const auto with = versions.get(draft.id);
    CHECK(with.chap_user == "maint-user");
    CHECK(with.chap_secret == "maint-secret-123");
    const auto sealed = versions.seal(draft.id, 1, kSha256);
    CHECK_FALSE(sealed.chap_user);
    CHECK_FALSE(sealed.chap_secret);
    CHECK_THROWS_AS(versions.set_chap(draft.id, "u", "s"), Conflict);
}

TEST_CASE("a new catalog file is private to its owner") {
    const auto dir = std::filesystem::temp_directory_path() / ("catalog-mode-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const auto saved = ::umask(022);  // a permissive umask: the catalog must not depend on it
    { auto catalog = Catalog::open(dir / "catalog.db"); }
    ::umask(saved);
    CHECK((std::filesystem::status(dir / "catalog.db").permissions() & std::filesystem::perms::all) ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
    std::filesystem::remove_all(dir);
}

TEST_CASE("a draft's maintenance machine: one draft per node, dropped when sealed or when the node goes") {
    auto catalog = Catalog::open_in_memory();
    auto s = catalog.session();
    const auto win = s.images().create("win11", "");
    const auto lin = s.images().create("linux", "");
    auto versions = s.versions();
    const auto base = sealed_version(s, win, std::nullopt);
    const auto draft = versions.add_draft(
        {.image_id = win.id, .parent_version_id = base.id, .file_path = "images/win11/v2.vhdx"});
    const auto other = versions.add_draft({.image_id = lin.id, .file_path = "images/linux/v1.vhdx"});
    const auto pc1 = s.nodes().add({.name = "pc1", .mac = "52:54:00:00:00:01"});
    const auto pc2 = s.nodes().add({.name = "pc2", .mac = "52:54:00:00:00:02"});

    CHECK_FALSE(versions.get(draft.id).maintenance_node_id);
    CHECK_FALSE(versions.maintained_by(pc1.id));
    versions.set_maintenance_node(draft.id, pc1.id);
    CHECK(versions.get(draft.id).maintenance_node_id == pc1.id);
    REQUIRE(versions.maintained_by(pc1.id));
    CHECK(versions.maintained_by(pc1.id)->id == draft.id);
    CHECK(versions.maintained().size() == 1);

    // A node boots one thing: it cannot maintain a second draft.
    try {
        versions.set_maintenance_node(other.id, pc1.id);
        FAIL("a node maintains two drafts");
    } catch (const Conflict& e) {
        CHECK(e.field() == "on");
        CHECK(std::string(e.what()).find("win11") != std::string::npos);
    }
    CHECK_THROWS_AS(versions.set_maintenance_node(draft.id, 999), NotFound);
    CHECK_THROWS_AS(versions.set_maintenance_node(base.id, pc2.id), Conflict);  // sealed

    // Replaced, then the node is removed: the draft has none.
    versions.set_maintenance_node(draft.id, pc2.id);
    CHECK_FALSE(versions.maintained_by(pc1.id));
    s.nodes().remove(pc2.id);
    CHECK_FALSE(versions.get(draft.id).maintenance_node_id);

    versions.set_maintenance_node(draft.id, pc1.id);
    const auto sealed = versions.seal(draft.id, 1, kSha256);
    CHECK_FALSE(sealed.maintenance_node_id);
    CHECK(versions.maintained().empty());
}
