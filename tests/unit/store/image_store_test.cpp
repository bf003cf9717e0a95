#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>

#include "db/error.hpp"
#include "imagestore/image_chain.hpp"
#include "imagestore/image_error.hpp"
#include "imagestore/store/image_store.hpp"
#include "imagestore/vhdx_file.hpp"
#include "tests/unit/store/store_test_support.hpp"

using namespace bootherd;
using namespace bootherd::imagestore;
using namespace bootherd::imagestore::store;
using namespace bootherd::imagestore::store::testing;

namespace {
constexpr std::uint64_t MiB = 1024 * 1024;

// A store with image "base" imported from a 64 MiB raw file holding 3 MiB of data; returns the raw file.
std::filesystem::path import_base(ImageStore& store, const TempDir& dir, std::mt19937_64& rng) {
    auto raw = dir.path() / "base.raw";
    write_raw_image(raw, 64 * MiB, {{0, MiB}, {40 * MiB + 4096, 2 * MiB}}, rng);
    store.import_image("base", raw);
    return raw;
}

void write_to(const std::filesystem::path& file, std::uint64_t offset, const std::vector<std::byte>& data) {
    auto chain = open_image(file.string(), false);
    REQUIRE_FALSE(chain->write(offset, data, false));
    chain->close();
}
}  // namespace

TEST_CASE("import of a raw image leaves zero regions unallocated and keeps the content") {
    TempDir dir;
    std::mt19937_64 rng(1);
    ImageStore store(dir.path() / "data");
    auto raw = import_base(store, dir, rng);

    auto versions = store.versions("base");
    REQUIRE(versions.size() == 1);
    const auto& v1 = versions[0];
    CHECK(v1.number == 1);
    CHECK(v1.promoted);
    CHECK(v1.state == db::VersionState::sealed);
    CHECK(v1.size_bytes == static_cast<std::int64_t>(64 * MiB));
    const auto file = store.absolute(v1.file_path);
    // 3 MiB of data (in at most 3 blocks) plus metadata, with the log and BAT space a writable VHDX reserves
    // (about 4 MiB, as Hyper-V's own files): not 64 MiB.
    CHECK(allocated_bytes(file) < 12 * MiB);
    CHECK((std::filesystem::status(file).permissions() & std::filesystem::perms::owner_write) ==
          std::filesystem::perms::none);

    auto chain = open_image(file.string(), true);
    CHECK(read_all(*chain) == read_file(raw));
    CHECK_THROWS_AS(store.import_image("base", raw), db::Conflict);
}

TEST_CASE("import reads VHDX input through our engine and qcow2 through qemu-img") {
    TempDir dir;
    std::mt19937_64 rng(2);
    ImageStore store(dir.path() / "data");
    auto raw = dir.path() / "src.raw";
    write_raw_image(raw, 8 * MiB, {{MiB, 512 * 1024}}, rng);
    const auto expected = read_file(raw);

    auto vhdx = dir.path() / "src.vhdx";
    {
        auto file = VhdxFile::create_dynamic(vhdx.string(), {.size = 8 * MiB, .block_size = MiB});
        file->write(MiB, std::span(expected).subspan(MiB, 512 * 1024), false);
        file->close();
    }
    auto from_vhdx = store.import_image("from-vhdx", vhdx);
    CHECK(read_all(*open_image(store.absolute(from_vhdx.file_path).string(), true)) == expected);

    if (program_available("qemu-img")) {
        auto qcow2 = dir.path() / "src.qcow2";
        std::string output;
        REQUIRE(run_program({"qemu-img", "convert", "-O", "qcow2", raw.string(), qcow2.string()}, output) ==
                0);
        auto from_qcow2 = store.import_image("from-qcow2", qcow2);
        CHECK(read_all(*open_image(store.absolute(from_qcow2.file_path).string(), true)) == expected);
    }

    auto bogus = dir.path() / "bogus.qcow2";
    write_raw_image(bogus, 4096, {}, rng);
    {
        std::ofstream out(bogus, std::ios::binary | std::ios::in | std::ios::out);
        out.write("QFI\xfb", 4);
    }
    CHECK_THROWS_WITH_AS(store.import_image("bogus", bogus), doctest::Contains("bogus.qcow2"), ImageError);
    CHECK_THROWS_AS(store.import_image("missing", dir.path() / "nope.raw"), ImageError);
    CHECK_FALSE(store.catalog().session().images().find_by_name("bogus"));
    // Failed imports leave nothing behind.
    CHECK(std::filesystem::is_empty(store.data_dir() / "tmp"));
}

TEST_CASE("import refuses images that refer to other files") {
    TempDir dir;
    std::mt19937_64 rng(12);
    ImageStore store(dir.path() / "data");
    auto secret = dir.path() / "secret.raw";  // stands for a host file such as /etc/shadow
    write_raw_image(secret, MiB, {{0, 4096}}, rng);

    // A differencing VHDX names its parent by path.
    auto parent = dir.path() / "parent.vhdx";
    VhdxFile::create_dynamic(parent.string(), {.size = MiB, .block_size = MiB})->close();
    auto child = dir.path() / "child.vhdx";
    VhdxFile::create_differencing(child.string(), parent.string())->close();
    CHECK_THROWS_WITH_AS(store.import_image("child", child), doctest::Contains("differencing disk"),
                         ImageError);

    // A VMDK descriptor whose extent is the secret file.
    auto vmdk = dir.path() / "extent.vmdk";
    std::ofstream(vmdk) << "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\n"
                           "createType=\"monolithicFlat\"\n\nRW 2048 FLAT \""
                        << secret.string() << "\" 0\n";
    CHECK_THROWS_WITH_AS(store.import_image("extent", vmdk), doctest::Contains("VMDK descriptor"),
                         ImageError);

    if (program_available("qemu-img")) {
        std::string output;
        auto backed = dir.path() / "backed.qcow2";
        const std::string backing_message = "refers to a backing file '" + secret.string() + "'";
        REQUIRE(run_program({"qemu-img", "create", "-q", "-f", "qcow2", "-b", secret.string(), "-F", "raw",
                             backed.string()},
                            output) == 0);
        CHECK_THROWS_WITH_AS(store.import_image("backed", backed), doctest::Contains(backing_message.c_str()),
                             ImageError);
        auto with_data_file = dir.path() / "data-file.qcow2";
        REQUIRE(run_program(
                    {"qemu-img", "create", "-q", "-f", "qcow2", "-o",
                     "data_file=" + (dir.path() / "external.raw").string(), with_data_file.string(), "1M"},
                    output) == 0);
        CHECK_THROWS_WITH_AS(store.import_image("data-file", with_data_file),
                             doctest::Contains("external data file"), ImageError);
        // A single-file VMDK is fine.
        auto sparse = dir.path() / "sparse.vmdk";
        REQUIRE(run_program({"qemu-img", "convert", "-O", "vmdk", secret.string(), sparse.string()},
                            output) == 0);
        CHECK(read_all(*open_image(store.absolute(store.import_image("sparse", sparse).file_path).string(),
                                   true)) == read_file(secret));
    }
    for (const char* name : {"child", "extent", "backed", "data-file"})
        CHECK_FALSE(store.catalog().session().images().find_by_name(name));
    CHECK(std::filesystem::is_empty(store.data_dir() / "tmp"));
}

TEST_CASE("the API's import paths stay inside the import directory, symbolic links resolved") {
    TempDir dir;
    ImageStore store(dir.path() / "data");
    const auto import = store.import_dir();
    CHECK(import == store.data_dir() / "import");
    CHECK((std::filesystem::status(import).permissions() & std::filesystem::perms::all) ==
          std::filesystem::perms::owner_all);
    std::ofstream(import / "ok.raw") << "x";
    std::ofstream(dir.path() / "outside.raw") << "x";
    std::filesystem::create_directories(import / "sub");
    std::ofstream(import / "sub" / "deep.raw") << "x";
    std::filesystem::create_symlink(dir.path() / "outside.raw", import / "link.raw");
    std::filesystem::create_symlink(import / "ok.raw", import / "inner-link.raw");

    CHECK(store.import_dir_file(import / "ok.raw") == std::filesystem::canonical(import / "ok.raw"));
    CHECK(store.import_dir_file(import / "sub" / "deep.raw") ==
          std::filesystem::canonical(import / "sub/deep.raw"));
    CHECK(store.import_dir_file(import / "inner-link.raw") == std::filesystem::canonical(import / "ok.raw"));
    for (const auto& bad :
         {std::filesystem::path("/etc/shadow"), dir.path() / "outside.raw", import / "link.raw",
          import / ".." / "catalog.db", import / "sub" / ".." / ".." / "catalog.db",
          std::filesystem::path("ok.raw"), import, import / "sub"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(store.import_dir_file(bad), db::InvalidArgument);
    }
    CHECK_THROWS_WITH(store.import_dir_file("/etc/shadow"), doctest::Contains("import directory"));
    CHECK_THROWS_WITH(store.import_dir_file(import / "missing.raw"), doctest::Contains("no such file"));
    // The same answer for an outside file that exists and one that does not.
    std::string exists, missing;
    try {
        store.import_dir_file(dir.path() / "outside.raw");
    } catch (const db::InvalidArgument& e) {
        exists = e.what();
    }
    try {
        store.import_dir_file(dir.path() / "nothing.raw");
    } catch (const db::InvalidArgument& e) {
        missing = e.what();
    }
    REQUIRE(exists.find(": only files") != std::string::npos);
    CHECK(exists.substr(exists.find(": only files")) == missing.substr(missing.find(": only files")));
}

TEST_CASE("the data directory and what it holds are private; older modes are fixed on open") {
    TempDir dir;
    std::mt19937_64 rng(13);
    const auto data = dir.path() / "data";
    {
        const auto saved = ::umask(077);  // as main() sets it
        ImageStore store(data);
        import_base(store, dir, rng);
        store.edit("base");
        ::umask(saved);
    }
    namespace fs = std::filesystem;
    auto shared = [&data] {
        std::vector<std::string> open;
        if ((fs::status(data).permissions() & (fs::perms::group_all | fs::perms::others_all)) !=
            fs::perms::none)
            open.emplace_back(".");
        for (const auto& entry : fs::recursive_directory_iterator(data))
            if ((entry.symlink_status().permissions() & (fs::perms::group_all | fs::perms::others_all)) !=
                fs::perms::none)
                open.push_back(fs::relative(entry.path(), data).string());
        return open;
    };
    CHECK(shared().empty());
    fs::permissions(data, fs::perms::group_read | fs::perms::others_read, fs::perm_options::add);
    fs::permissions(data / "catalog.db", fs::perms::group_read | fs::perms::others_read,
                    fs::perm_options::add);
    fs::permissions(data / "images", fs::perms::others_exec, fs::perm_options::add);
    CHECK(shared().size() == 3);
    ImageStore reopened(data);
    CHECK(shared().empty());
    CHECK((fs::status(data / "catalog.db").permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write));
}

TEST_CASE("edit, commit, promote, rollback and discard") {
    TempDir dir;
    std::mt19937_64 rng(3);
    ImageStore store(dir.path() / "data");
    import_base(store, dir, rng);

    CHECK_THROWS_AS(store.commit("base"), StoreError);
    CHECK_THROWS_AS(store.discard("base"), StoreError);
    auto draft = store.edit("base");
    CHECK(draft.number == 2);
    CHECK(draft.state == db::VersionState::draft);
    CHECK_THROWS_AS(store.edit("base"), db::Conflict);
    CHECK_THROWS_AS(store.promote("base", 2), db::Conflict);  // drafts cannot be promoted

    const auto change = random_bytes(64 * 1024, rng);
    write_to(store.absolute(draft.file_path), 8 * MiB, change);
    auto v2 = store.commit("base");
    CHECK(v2.state == db::VersionState::sealed);
    CHECK(v2.parent_version_id);
    CHECK_FALSE(v2.promoted);
    CHECK((std::filesystem::status(store.absolute(v2.file_path)).permissions() &
           std::filesystem::perms::all) == std::filesystem::perms::owner_read);

    CHECK(store.promote("base", 2).promoted);
    auto v3draft = store.edit("base");
    CHECK(v3draft.parent_version_id == v2.id);  // drafts sit on the promoted version
    {
        auto chain = open_image(store.absolute(v3draft.file_path).string(), true);
        std::vector<std::byte> got(change.size());
        REQUIRE_FALSE(chain->read(8 * MiB, got));
        CHECK(got == change);
    }
    store.discard("base");
    CHECK_FALSE(std::filesystem::exists(store.absolute(v3draft.file_path)));
    CHECK_FALSE(store.draft("base"));

    auto back = store.rollback("base");
    CHECK(back.number == 1);
    CHECK(back.promoted);
    CHECK_THROWS_AS(store.rollback("base"), db::Conflict);  // nothing before v1
    CHECK_THROWS_AS(store.promote("base", 7), db::NotFound);
    CHECK_THROWS_AS(store.edit("nosuch"), db::NotFound);
}

TEST_CASE("flatten makes a standalone version with the same content") {
    TempDir dir;
    std::mt19937_64 rng(4);
    ImageStore store(dir.path() / "data");
    import_base(store, dir, rng);
    for (int level = 0; level < 2; ++level) {
        auto draft = store.edit("base");
        write_to(store.absolute(draft.file_path), (3 + level) * MiB + 512, random_bytes(3 * 4096, rng));
        store.commit("base");
        store.promote("base", draft.number);
    }
    auto flat = store.flatten("base", 3);
    CHECK(flat.number == 4);
    CHECK_FALSE(flat.parent_version_id);
    auto original = open_image(store.absolute(store.versions("base")[2].file_path).string(), true);
    auto flattened = open_image(store.absolute(flat.file_path).string(), true);
    CHECK(original->layers().size() == 3);
    CHECK(flattened->layers().size() == 1);
    CHECK(read_all(*flattened) == read_all(*original));
}

TEST_CASE("gc removes only versions nothing uses") {
    TempDir dir;
    std::mt19937_64 rng(5);
    ImageStore store(dir.path() / "data");
    import_base(store, dir, rng);
    std::vector<db::Version> made;
    for (int i = 0; i < 3; ++i) {
        auto draft = store.edit("base");
        write_to(store.absolute(draft.file_path), MiB * static_cast<std::uint64_t>(i),
                 random_bytes(4096, rng));
        made.push_back(store.commit("base"));
        store.promote("base", draft.number);  // v2 -> v3 -> v4, each on the previous
    }
    // A flattened v5 promoted; a node stays on v4 (whose chain needs v3, v2, v1).
    auto node = store.add_node(
        {.name = "pc1", .mac = "52:54:00:00:00:01", .image_id = made[0].image_id, .persistent = true});
    REQUIRE(node.disk_version_id == made[2].id);
    auto flat = store.flatten("base", 4);
    store.promote("base", flat.number);
    CHECK(store.gc(0).empty());  // everything is in use

    store.reset_node("pc1");  // now on v5; v4 stays as the previous promotion
    auto removed = store.gc(0);
    std::vector<std::int64_t> numbers;
    for (auto& v : removed)
        numbers.push_back(v.number);
    CHECK(numbers.empty());  // v4 was the previously promoted version: rollback needs it and its chain

    store.edit("base");  // a draft on v5 pins v5 only
    store.discard("base");
    auto images = store.catalog().session().images().get(made[0].image_id);
    CHECK(images.previous_promoted_version_id == made[2].id);
    for (auto& v : store.versions("base"))
        CHECK(std::filesystem::exists(store.absolute(v.file_path)));
}

TEST_CASE("gc deletes unused versions beyond the newest N, row and file") {
    TempDir dir;
    std::mt19937_64 rng(6);
    ImageStore store(dir.path() / "data");
    import_base(store, dir, rng);
    store.edit("base");
    auto v2 = store.commit("base");  // on v1, never promoted
    store.edit("base");
    auto v3 = store.commit("base");  // on v1, never promoted
    auto node = store.add_node({.name = "pc1", .mac = "52:54:00:00:00:01", .image_id = v2.image_id});
    store.promote("base", 2);  // the node's disk stays on v1

    CHECK(store.gc(1).empty());      // v3 is the newest, v2 promoted, v1 parent and node disk
    store.promote("base", 1);        // v2 becomes the previous promotion: still kept
    CHECK(store.gc(0).size() == 1);  // only v3 goes
    CHECK_FALSE(std::filesystem::exists(store.absolute(v3.file_path)));
    CHECK(std::filesystem::exists(store.absolute(v2.file_path)));
    CHECK(store.versions("base").size() == 2);
    CHECK(std::filesystem::exists(store.absolute(*node.disk_path)));
}

TEST_CASE("remove_image is refused while anything uses the image, naming it; then rows and files go") {
    TempDir dir;
    std::mt19937_64 rng(7);
    ImageStore store(dir.path() / "data");
    import_base(store, dir, rng);
    store.edit("base");
    const auto v2 = store.commit("base");
    const auto image_id = v2.image_id;
    store.add_node({.name = "pc1", .mac = "52:54:00:00:00:01", .image_id = image_id});
    auto group = store.catalog().session().groups().create({.name = "lab", .image_id = image_id});
    store.maintain("base", "pc1");

    CHECK_THROWS_WITH_AS(
        store.remove_image("base"),
        "image: 'base' is still used by machine(s) pc1; group(s) lab; the draft v3 maintained by pc1",
        db::Conflict);
    store.discard("base");
    store.remove_node("pc1");
    CHECK_THROWS_WITH_AS(store.remove_image("base"), "image: 'base' is still used by group(s) lab",
                         db::Conflict);
    CHECK(store.versions("base").size() == 2);  // nothing went while refused

    group.image_id.reset();
    store.catalog().session().groups().update(group);
    store.remove_image("base");
    CHECK_FALSE(store.catalog().session().images().find_by_name("base"));
    CHECK_FALSE(std::filesystem::exists(store.absolute("images/base")));
    CHECK_THROWS_AS(store.remove_image("base"), db::NotFound);
}
