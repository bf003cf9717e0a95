#include <doctest/doctest.h>

#include "imagestore/store/catalog_targets.hpp"
#include "imagestore/store/image_store.hpp"
#include "tests/unit/store/store_test_support.hpp"

using namespace bootherd;
using namespace bootherd::imagestore::store;
using namespace bootherd::imagestore::store::testing;

namespace {
constexpr std::uint64_t MiB = 1024 * 1024;
}

TEST_CASE("catalog targets: one target per node, opened lazily, bases shared") {
    TempDir dir;
    std::mt19937_64 rng(9);
    ImageStore store(dir.path() / "data");
    auto raw = dir.path() / "base.raw";
    write_raw_image(raw, 8 * MiB, {{0, MiB}}, rng);
    auto v1 = store.import_image("base", raw);
    std::vector<db::Node> nodes;
    for (int i = 0; i < 3; ++i) {
        nodes.push_back(store.add_node({.name = "pc" + std::to_string(i),
                                        .mac = "52:54:00:00:00:0" + std::to_string(i),
                                        .image_id = v1.image_id}));
    }
    for (const auto& node : nodes)  // as if each fetched its script at its bound address
        store.catalog().session().nodes().set_boot_address(node.id, "10.0.0." + std::to_string(node.id), 1);
    const auto edited = store.edit("base");
    db::NodeSnapshot known;
    CatalogTargets targets(store, known);

    auto listed = targets.all();
    REQUIRE(listed.size() == 4);  // three nodes and the draft
    for (const auto& t : listed)
        CHECK_FALSE(t->device);  // discovery opens nothing
    CHECK(store.layers().open_count() == 0);

    auto a = targets.find(nodes[0].iqn);
    auto b = targets.find(nodes[1].iqn);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->device);
    CHECK(a->allowed_initiators == std::vector<std::string>{node_initiator_iqn(nodes[0])});
    CHECK(a->allows(nodes[0].iqn + ":initiator"));
    CHECK_FALSE(a->allows(node_initiator_iqn(nodes[1])));
    REQUIRE(a->chap);
    CHECK(a->chap->user == nodes[0].chap_user);
    CHECK(a->chap->secret == nodes[0].chap_secret);
    CHECK(targets.find(nodes[0].iqn)->device == a->device);  // one open chain per target, shared by sessions
    CHECK(store.layers().open_count() == 1);                 // v1, shared by both nodes' chains
    // What a login read is remembered, for logins while the catalog is unreachable.
    REQUIRE(known.by_iqn(nodes[0].iqn));
    CHECK(known.by_iqn(nodes[0].iqn)->disk_path ==
          store.catalog().session().nodes().get(nodes[0].id).disk_path);
    CHECK_FALSE(known.by_iqn(nodes[2].iqn));

    auto draft = targets.find(draft_iqn("base"));
    REQUIRE(draft);
    REQUIRE(draft->chap);  // the draft's own credentials, made by edit
    REQUIRE(edited.chap_user);
    REQUIRE(edited.chap_secret);
    CHECK(draft->chap->user == *edited.chap_user);
    CHECK(draft->chap->secret == *edited.chap_secret);
    CHECK(edited.chap_secret->size() >= 16);
    CHECK(draft->allowed_initiators.empty());
    CHECK_FALSE(targets.find("iqn.2026-11.org.bootherd:node.nobody"));

    // A new boot of a non-persistent node: the next login gets its new disk.
    store.begin_boot(nodes[0].id, BootStart::unannounced, FakeDiskUsage{});
    auto a2 = targets.find(nodes[0].iqn);
    REQUIRE(a2);
    CHECK(a2 != a);
    CHECK(a2->device != a->device);

    store.catalog().session().nodes().update(nodes[2].id, {.enabled = false});
    CHECK_FALSE(targets.find(nodes[2].iqn));
    CHECK(targets.all().size() == 3);
}

TEST_CASE("catalog targets: a bound node admits logins only from its boot address, read at each login") {
    TempDir dir;
    std::mt19937_64 rng(11);
    ImageStore store(dir.path() / "data");
    auto raw = dir.path() / "base.raw";
    write_raw_image(raw, 8 * MiB, {{0, MiB}}, rng);
    auto v1 = store.import_image("base", raw);
    auto bound = store.add_node({.name = "bound", .mac = "52:54:00:00:00:01", .image_id = v1.image_id});
    auto open = store.add_node(
        {.name = "open", .mac = "52:54:00:00:00:02", .image_id = v1.image_id, .bind_address = false});
    db::NodeSnapshot known;
    CatalogTargets targets(store, known);

    // No script served to it yet: nobody may log in, and its disk is not opened.
    CHECK_FALSE(targets.find(bound.iqn));
    CHECK(store.layers().open_count() == 0);

    store.catalog().session().nodes().set_boot_address(bound.id, "10.0.0.5", 1);
    auto first = targets.find(bound.iqn);
    REQUIRE(first);
    CHECK(first->allowed_addresses ==
          std::vector<boost::asio::ip::address>{boost::asio::ip::make_address("10.0.0.5")});

    // A new boot at another address takes effect at the next login, on the same open disk.
    store.catalog().session().nodes().set_boot_address(bound.id, "10.0.0.6", 2);
    auto second = targets.find(bound.iqn);
    REQUIRE(second);
    CHECK(second->allowed_addresses ==
          std::vector<boost::asio::ip::address>{boost::asio::ip::make_address("10.0.0.6")});
    CHECK(second->device == first->device);

    // Binding off (node or group): any address, CHAP only.
    auto any = targets.find(open.iqn);
    REQUIRE(any);
    CHECK(any->allowed_addresses.empty());
    auto group = store.catalog().session().groups().create({.name = "routed", .bind_address = false});
    store.catalog().session().nodes().update(bound.id, {.group_id = group.id});
    CHECK(targets.find(bound.iqn)->allowed_addresses.empty());
    store.catalog().session().nodes().update(
        bound.id, {.bind_address = true});  // the node's own choice wins over its group's
    CHECK(targets.find(bound.iqn)->allowed_addresses.size() == 1);
}

TEST_CASE("commit and discard are refused while a server has the draft open, allowed once it is closed") {
    TempDir dir;
    std::mt19937_64 rng(10);
    ImageStore store(dir.path() / "data");
    auto raw = dir.path() / "base.raw";
    write_raw_image(raw, 8 * MiB, {{0, MiB}}, rng);
    store.import_image("base", raw);
    auto draft_version = store.edit("base");
    db::NodeSnapshot known;
    CatalogTargets targets(store, known);

    auto session = targets.find(draft_iqn("base"));  // a maintenance machine logs in
    REQUIRE(session);
    for (auto action :
         {+[](ImageStore& s) { s.commit("base"); }, +[](ImageStore& s) { s.discard("base"); }}) {
        try {
            action(store);
            FAIL("a draft in use was sealed or dropped");
        } catch (const StoreError& e) {
            const std::string message = e.what();
            CHECK(message.find("open for writing") != std::string::npos);
            CHECK(message.find(draft_iqn("base")) != std::string::npos);
        }
    }
    REQUIRE(store.draft("base"));  // untouched
    CHECK(std::filesystem::exists(store.absolute(draft_version.file_path)));

    session.reset();  // it logs out: the server closes the draft
    auto v2 = store.commit("base");
    CHECK(v2.state == db::VersionState::sealed);
    CHECK_FALSE(targets.find(draft_iqn("base")));

    // The same for discard: refused while open, done once closed.
    store.edit("base");
    session = targets.find(draft_iqn("base"));
    REQUIRE(session);
    CHECK_THROWS_AS(store.discard("base"), StoreError);
    session.reset();
    store.discard("base");
    CHECK_FALSE(store.draft("base"));
}

TEST_CASE(
    "each draft has its own CHAP credentials; a draft without any is no target until a store gives it some") {
    TempDir dir;
    std::mt19937_64 rng(11);
    auto raw = dir.path() / "base.raw";
    write_raw_image(raw, 8 * MiB, {{0, MiB}}, rng);
    {
        ImageStore store(dir.path() / "data");
        store.import_image("base", raw);
        store.import_image("other", raw);
        const auto a = store.edit("base");
        const auto b = store.edit("other");
        CHECK(a.chap_secret != b.chap_secret);
        CHECK(a.chap_user != b.chap_user);
        // As a draft made before drafts had credentials.
        auto session = store.catalog().session();
        session.database().exec(
            "UPDATE versions SET chap_user = NULL, chap_secret = NULL WHERE state = 'draft'");
        db::NodeSnapshot known;
        CatalogTargets targets(store, known);
        CHECK_FALSE(targets.find(draft_iqn("base")));
        CHECK(targets.all().empty());
    }
    ImageStore reopened(dir.path() / "data");
    const auto draft = reopened.draft("base");
    REQUIRE(draft);
    REQUIRE(draft->chap_secret);
    db::NodeSnapshot known;
    CatalogTargets targets(reopened, known);
    auto target = targets.find(draft_iqn("base"));
    REQUIRE(target);
    CHECK(target->chap->secret == *draft->chap_secret);
    // Sealed versions keep no credentials.
    target.reset();
    CHECK_FALSE(reopened.commit("base").chap_secret);
}
