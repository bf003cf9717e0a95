#include <doctest/doctest.h>

#include <fstream>

#include "db/error.hpp"
#include "imagestore/image_chain.hpp"
#include "imagestore/store/image_store.hpp"
#include "imagestore/store/store_lock.hpp"
#include "tests/unit/store/store_test_support.hpp"

using namespace bootherd;
using namespace bootherd::imagestore;
using namespace bootherd::imagestore::store;
using namespace bootherd::imagestore::store::testing;

namespace {
constexpr std::uint64_t MiB = 1024 * 1024;

struct Fixture {
    TempDir dir;
    std::mt19937_64 rng{7};
    std::unique_ptr<ImageStore> store;
    std::int64_t image_id = 0;
    FakeDiskUsage no_sessions;

    Fixture() {
        store = std::make_unique<ImageStore>(dir.path() / "data");
        auto raw = dir.path() / "base.raw";
        write_raw_image(raw, 16 * MiB, {{0, MiB}}, rng);
        image_id = store->import_image("base", raw).image_id;
    }
    void write_node(const db::Node& node, std::uint64_t offset, const std::vector<std::byte>& data) {
        auto chain = open_image(store->absolute(*node.disk_path).string(), false);
        REQUIRE_FALSE(chain->write(offset, data, false));
        chain->close();
    }
    std::vector<std::byte> read_node(const db::Node& node, std::uint64_t offset, std::size_t length) {
        auto chain = open_image(store->absolute(*node.disk_path).string(), true);
        std::vector<std::byte> out(length);
        REQUIRE_FALSE(chain->read(offset, out));
        return out;
    }
};
}  // namespace

TEST_CASE("enrolment creates the node's disk on the promoted version") {
    Fixture f;
    auto node = f.store->add_node({.name = "pc1", .mac = "52:54:00:00:00:01", .image_id = f.image_id});
    REQUIRE(node.disk_path);
    CHECK(node.disk_version_id == f.store->versions("base")[0].id);
    auto chain = open_image(f.store->absolute(*node.disk_path).string(), true);
    CHECK(chain->layers().size() == 2);

    auto bare =
        f.store->add_node({.name = "pc2", .mac = "52:54:00:00:00:02"});  // no image: disk at first boot
    CHECK_FALSE(bare.disk_path);
    CHECK_THROWS_AS(f.store->begin_boot(bare.id, BootStart::unannounced, FakeDiskUsage{}), StoreError);

    f.store->remove_node("pc1");
    CHECK_FALSE(std::filesystem::exists(f.store->absolute(*node.disk_path)));
    CHECK_THROWS_AS(f.store->reset_node("pc1"), db::NotFound);
}

TEST_CASE("non-persistent nodes get a fresh disk at each boot, persistent ones keep theirs") {
    Fixture f;
    auto volatile_node =
        f.store->add_node({.name = "kiosk", .mac = "52:54:00:00:00:01", .image_id = f.image_id});
    auto kept = f.store->add_node(
        {.name = "desk", .mac = "52:54:00:00:00:02", .image_id = f.image_id, .persistent = true});
    const auto data = random_bytes(8192, f.rng);
    const std::vector<std::byte> base_bytes = f.read_node(volatile_node, 4 * MiB, data.size());
    f.write_node(volatile_node, 4 * MiB, data);
    f.write_node(kept, 4 * MiB, data);

    auto rebooted = f.store->begin_boot(volatile_node.id, BootStart::unannounced, f.no_sessions);
    CHECK(rebooted.disk_path != volatile_node.disk_path);
    CHECK_FALSE(std::filesystem::exists(f.store->absolute(*volatile_node.disk_path)));
    CHECK(f.read_node(rebooted, 4 * MiB, data.size()) == base_bytes);

    auto kept_again = f.store->begin_boot(kept.id, BootStart::unannounced, f.no_sessions);
    CHECK(kept_again.disk_path == kept.disk_path);
    CHECK(f.read_node(kept_again, 4 * MiB, data.size()) == data);

    // A newer promoted version: the volatile node moves at its next boot, the persistent one is outdated.
    f.store->edit("base");
    auto v2 = f.store->commit("base");
    f.store->promote("base", v2.number);
    CHECK(f.store->begin_boot(volatile_node.id, BootStart::unannounced, f.no_sessions).disk_version_id ==
          v2.id);
    kept_again = f.store->begin_boot(kept.id, BootStart::unannounced, f.no_sessions);
    CHECK(kept_again.disk_version_id != v2.id);
    CHECK(f.store->status(kept_again).outdated);
    CHECK_FALSE(f.store->status(f.store->catalog().session().nodes().get(volatile_node.id)).outdated);

    // Reset gives the persistent node a fresh disk on the promoted version.
    auto reset = f.store->reset_node("desk");
    CHECK(reset.disk_version_id == v2.id);
    CHECK(f.read_node(reset, 4 * MiB, data.size()) == base_bytes);
    CHECK_FALSE(f.store->status(reset).outdated);
}

TEST_CASE("a fetch never replaces a disk with a live session unless the firmware announced a new boot") {
    Fixture f;
    auto node = f.store->add_node({.name = "kiosk", .mac = "52:54:00:00:00:01", .image_id = f.image_id});
    const auto data = random_bytes(4096, f.rng);
    f.write_node(node, 2 * MiB, data);
    FakeDiskUsage live;
    live.logged_in.insert(node.iqn);

    // A running machine (or anyone at its address) fetching its script keeps its disk and data.
    for (int i = 0; i < 5; ++i) {
        const auto same = f.store->begin_boot(node.id, BootStart::unannounced, live);
        CHECK(same.disk_path == node.disk_path);
    }
    CHECK(f.read_node(node, 2 * MiB, data.size()) == data);

    // Its firmware announced a new boot: the sessions left are the previous boot's, the disk is replaced. The
    // old file stays while a server has it open for writing (a session on it), and goes once it is closed.
    auto chain = open_image(f.store->absolute(*node.disk_path).string(), false);
    const auto fresh = f.store->begin_boot(node.id, BootStart::announced, live);
    CHECK(fresh.disk_path != node.disk_path);
    CHECK(std::filesystem::exists(f.store->absolute(*node.disk_path)));
    CHECK(f.store->sweep_orphans().removed_files.empty());  // the sweep leaves an open file alone too
    f.store->remove_unused_disks();
    CHECK(std::filesystem::exists(f.store->absolute(*node.disk_path)));
    chain->close();
    chain.reset();
    f.store->remove_unused_disks();
    CHECK_FALSE(std::filesystem::exists(f.store->absolute(*node.disk_path)));

    // No session: a fetch alone starts a new boot.
    const auto next = f.store->begin_boot(node.id, BootStart::unannounced, f.no_sessions);
    CHECK(next.disk_path != fresh.disk_path);
}

TEST_CASE("CSV import enrols every node or none; each disk is made at the node's first boot") {
    Fixture f;
    auto report =
        f.store->import_nodes("name,mac,image\npc1,52:54:00:00:00:01,base\npc2,52:54:00:00:00:02,base\n");
    REQUIRE(report.ok());
    for (const auto& s : f.store->list_nodes()) {
        CHECK_FALSE(s.node.disk_path);
        const db::Node booted = f.store->begin_boot(s.node.id, BootStart::unannounced, f.no_sessions);
        REQUIRE(booted.disk_path);
        CHECK(std::filesystem::exists(f.store->absolute(*booted.disk_path)));
        CHECK(f.store->ensure_disk(s.node.id).disk_path == booted.disk_path);
    }
    auto bad = f.store->import_nodes("name,mac,image\npc3,52:54:00:00:00:03,base\npc4,zz,base\n");
    CHECK_FALSE(bad.ok());
    CHECK(bad.problems.at(0).line == 3);
    CHECK(f.store->list_nodes().size() == 2);
}

TEST_CASE("start-up sweep removes orphan files and reports rows whose file is missing") {
    TempDir dir;
    std::mt19937_64 rng(8);
    std::filesystem::path node_disk, version_file;
    {
        ImageStore store(dir.path() / "data");
        auto raw = dir.path() / "base.raw";
        write_raw_image(raw, 8 * MiB, {{0, 4096}}, rng);
        auto v1 = store.import_image("base", raw);
        auto node = store.add_node({.name = "pc1", .mac = "52:54:00:00:00:01", .image_id = v1.image_id});
        node_disk = store.absolute(*node.disk_path);
        store.edit("base");
        version_file = store.absolute(store.commit("base").file_path);
        CHECK(store.startup_report().clean());
    }
    // What a crash between "create file" and "commit row" leaves, and files lost behind our back.
    const auto data = dir.path() / "data";
    { std::ofstream(data / "nodes" / "pc9-123.vhdx") << "x"; }
    { std::ofstream(data / "images" / "base" / "v7.vhdx") << "x"; }
    { std::ofstream(data / "tmp" / "import-half.vhdx") << "x"; }
    std::filesystem::remove(node_disk);
    std::filesystem::remove(version_file);

    {
        // While another process is mid-mutation, the sweep waits for a later start-up.
        StoreLock busy(data / ".lock", StoreLock::Mode::shared);
        ImageStore blocked(data);
        CHECK(blocked.startup_report().skipped);
        CHECK(std::filesystem::exists(data / "nodes" / "pc9-123.vhdx"));
    }
    ImageStore store(data);
    const auto& report = store.startup_report();
    CHECK_FALSE(report.skipped);
    CHECK(report.removed_files ==
          std::vector<std::string>{"images/base/v7.vhdx", "nodes/pc9-123.vhdx", "tmp/import-half.vhdx"});
    REQUIRE(report.missing_versions.size() == 1);
    CHECK(report.missing_versions[0] == "base v2: images/base/v2.vhdx");
    REQUIRE(report.missing_node_disks.size() == 1);
    CHECK(report.missing_node_disks[0].starts_with("pc1: nodes/pc1-"));
    // The node's vanished disk is recreated at its next boot.
    auto node = store.catalog().session().nodes().find_by_name("pc1");
    CHECK_FALSE(node->disk_path);
    CHECK(store.begin_boot(node->id, BootStart::unannounced, FakeDiskUsage{}).disk_path);
    CHECK(store.sweep_orphans().missing_node_disks.empty());
}

TEST_CASE(
    "start-up sweep on a catalog several servers share: only this server's machines' disks are checked") {
    TempDir dir;
    std::mt19937_64 rng(9);
    const auto catalog = (dir.path() / "shared.db").string();
    std::int64_t here = 0, there = 0, other = 0;
    {
        ImageStore s1(dir.path() / "s1", {}, catalog, "s1");
        auto raw = dir.path() / "base.raw";
        write_raw_image(raw, 8 * MiB, {{0, 4096}}, rng);
        const auto v1 = s1.import_image("base", raw);
        auto session = s1.catalog().session();
        const auto self =
            session.servers().register_server({.name = "s1", .iscsi_portal = "10.0.0.1:3260"}, 1);
        const auto peer =
            session.servers().register_server({.name = "s2", .iscsi_portal = "10.0.0.2:3260"}, 1);
        here = s1.add_node({.name = "pc1", .mac = "52:54:00:00:00:01", .image_id = v1.image_id}).id;
        there = s1.add_node({.name = "pc2", .mac = "52:54:00:00:00:02", .image_id = v1.image_id}).id;
        other = s1.add_node({.name = "pc3", .mac = "52:54:00:00:00:03", .image_id = v1.image_id}).id;
        // Each machine's disk on its home: pc1 on s1 (lost there), pc2 and pc3 on s2.
        session.nodes().set_disk(here, v1.id, "nodes/pc1-lost.vhdx");
        session.nodes().set_home_server(here, self.id, 1);
        session.nodes().set_disk(there, v1.id, "nodes/pc2-on-s2.vhdx");
        session.nodes().set_home_server(there, peer.id, 1);
        session.nodes().set_disk(other, v1.id, "nodes/pc3-on-s2.vhdx");
        session.nodes().set_home_server(other, peer.id, 1);
    }
    // Server s2's data directory, which has not pulled v1 yet: neither v1 nor s1's disk is missing there.
    ImageStore s2(dir.path() / "s2", {}, catalog, "s2");
    CHECK(s2.startup_report().missing_versions.empty());
    CHECK(s2.startup_report().missing_node_disks ==
          std::vector<std::string>{"pc2: nodes/pc2-on-s2.vhdx", "pc3: nodes/pc3-on-s2.vhdx"});
    CHECK(s2.catalog().session().nodes().get(here).disk_path == "nodes/pc1-lost.vhdx");
    // A command run on s1's data directory (no server name) leaves every homed machine's disk alone.
    ImageStore cli(dir.path() / "s1", {}, catalog);
    CHECK(cli.startup_report().missing_node_disks.empty());
    CHECK(cli.catalog().session().nodes().get(here).disk_path == "nodes/pc1-lost.vhdx");
    // s1 itself drops its own lost disk, so the next boot makes a new one.
    ImageStore s1(dir.path() / "s1", {}, catalog, "s1");
    CHECK(s1.startup_report().missing_node_disks == std::vector<std::string>{"pc1: nodes/pc1-lost.vhdx"});
    CHECK_FALSE(s1.catalog().session().nodes().get(here).disk_path);
}
