#include <doctest/doctest.h>

#include <functional>

#include "db/error.hpp"
#include "imagestore/store/catalog_targets.hpp"
#include "imagestore/store/image_store.hpp"
#include "tests/unit/store/store_test_support.hpp"

using namespace bootherd;
using namespace bootherd::imagestore::store;
using namespace bootherd::imagestore::store::testing;

namespace {

constexpr std::uint64_t MiB = 1024 * 1024;

struct Fixture {
    TempDir dir;
    ImageStore store{dir.path() / "data"};
    db::Version v1;
    db::Node pc1, pc2;

    Fixture() {
        std::mt19937_64 rng(21);
        const auto raw = dir.path() / "base.raw";
        write_raw_image(raw, 8 * MiB, {{0, MiB}}, rng);
        v1 = store.import_image("base", raw);
        pc1 = store.add_node(
            {.name = "pc1", .mac = "52:54:00:00:00:01", .image_id = v1.image_id, .bind_address = false});
        pc2 = store.add_node({.name = "pc2", .mac = "52:54:00:00:00:02", .image_id = v1.image_id});
    }
};

std::string refusal(const std::function<void()>& action) {
    try {
        action();
    } catch (const StoreError& e) {
        return e.what();
    }
    FAIL("not refused");
    return {};
}

}  // namespace

TEST_CASE("maintain makes the draft if there is none, reuses it after, and leaves the node's own disk") {
    Fixture f;
    const auto disk_before = f.store.catalog().session().nodes().get(f.pc1.id).disk_path;
    const auto first = f.store.maintain("base", "pc1");
    CHECK(first.draft_created);
    CHECK(first.draft.state == db::VersionState::draft);
    CHECK(first.draft.number == 2);
    CHECK(first.draft.maintenance_node_id == f.pc1.id);
    CHECK(first.draft.chap_secret);
    CHECK(first.node.name == "pc1");

    const auto again = f.store.maintain("base", "pc1");
    CHECK_FALSE(again.draft_created);
    CHECK(again.draft.id == first.draft.id);
    CHECK(again.draft.chap_secret == first.draft.chap_secret);

    const auto of = f.store.maintenance_of(f.pc1);
    REQUIRE(of);
    CHECK(of->image == "base");
    CHECK(of->draft.id == first.draft.id);
    CHECK_FALSE(f.store.maintenance_of(f.pc2));
    const auto status = f.store.status(f.store.catalog().session().nodes().get(f.pc1.id));
    CHECK(status.maintenance_image == "base");
    CHECK(status.maintenance_version == 2);
    CHECK(f.store.catalog().session().nodes().get(f.pc1.id).disk_path == disk_before);

    // An existing draft made by plain edit is used as it is.
    f.store.discard("base");
    CHECK_FALSE(f.store.maintenance_of(f.pc1));
    const auto plain = f.store.edit("base");
    const auto taken = f.store.maintain("base", "pc2");
    CHECK_FALSE(taken.draft_created);
    CHECK(taken.draft.id == plain.id);
}

TEST_CASE("maintain refuses a disabled node, a node maintaining another image, unknown names") {
    Fixture f;
    std::mt19937_64 rng(22);
    const auto raw = f.dir.path() / "other.raw";
    write_raw_image(raw, 4 * MiB, {{0, MiB}}, rng);
    f.store.import_image("other", raw);
    f.store.maintain("base", "pc1");
    CHECK_THROWS_AS(f.store.maintain("other", "pc1"), db::Conflict);
    CHECK_FALSE(f.store.draft("other"));  // refused before any draft was made
    f.store.catalog().session().nodes().update(f.pc2.id, {.enabled = false});
    CHECK_THROWS_AS(f.store.maintain("other", "pc2"), db::Conflict);
    CHECK_THROWS_AS(f.store.maintain("base", "nosuch"), db::NotFound);
    CHECK_THROWS_AS(f.store.maintain("nosuch", "pc1"), db::NotFound);
}

TEST_CASE("the draft target admits only its maintenance machine, from its bound address") {
    Fixture f;
    db::NodeSnapshot known;
    CatalogTargets targets(f.store, known);
    f.store.edit("base");
    auto open = targets.find(draft_iqn("base"));
    REQUIRE(open);
    CHECK(open->allowed_initiators.empty());  // no maintenance machine: an administrator's tools
    open.reset();

    f.store.maintain("base", "pc1");  // binding off
    auto pc1 = targets.find(draft_iqn("base"));
    REQUIRE(pc1);
    CHECK(pc1->allowed_initiators == std::vector<std::string>{node_initiator_iqn(f.pc1)});
    CHECK(pc1->allowed_addresses.empty());
    pc1.reset();

    f.store.maintain("base", "pc2");  // binds: nobody before its script was served, then its boot address
    auto pc2 = targets.find(draft_iqn("base"));
    REQUIRE(pc2);
    CHECK(pc2->allowed_initiators == std::vector<std::string>{node_initiator_iqn(f.pc2)});
    REQUIRE(pc2->allowed_addresses.size() == 1);
    CHECK(pc2->allowed_addresses.front().is_unspecified());
    pc2.reset();
    f.store.catalog().session().nodes().set_boot_address(f.pc2.id, "10.0.0.7", 1);
    pc2 = targets.find(draft_iqn("base"));
    REQUIRE(pc2);
    CHECK(pc2->allowed_addresses ==
          std::vector<boost::asio::ip::address>{boost::asio::ip::make_address("10.0.0.7")});
    // Discovery describes it the same way.
    for (const auto& target : targets.all())
        if (target->iqn == draft_iqn("base"))
            CHECK(target->allowed_initiators == std::vector<std::string>{node_initiator_iqn(f.pc2)});
}

TEST_CASE(
    "commit, discard and a new maintenance machine are refused while the draft is open, naming the node") {
    Fixture f;
    db::NodeSnapshot known;
    CatalogTargets targets(f.store, known);
    f.store.maintain("base", "pc1");
    auto session = targets.find(draft_iqn("base"));  // pc1 logs in
    REQUIRE(session);
    for (auto action : {+[](ImageStore& s) { s.commit("base"); }, +[](ImageStore& s) { s.discard("base"); },
                        +[](ImageStore& s) { s.maintain("base", "pc2"); }}) {
        const auto message = refusal([&] { action(f.store); });
        CHECK(message.starts_with(
            "node pc1 is still logged in to the draft of image 'base': shut it down first"));
    }
    CHECK(f.store.maintenance_of(f.pc1));
    CHECK_FALSE(f.store.maintenance_of(f.pc2));

    session.reset();  // pc1 shuts down
    const auto v2 = f.store.commit("base");
    CHECK(v2.state == db::VersionState::sealed);
    CHECK_FALSE(v2.maintenance_node_id);
    CHECK_FALSE(v2.chap_secret);
    CHECK_FALSE(f.store.maintenance_of(f.pc1));  // its next boot is its own disk again
    CHECK_FALSE(targets.find(draft_iqn("base")));
}
