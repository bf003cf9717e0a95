#include <doctest/doctest.h>

#include "db/node_snapshot.hpp"
#include "test_catalog.hpp"

using namespace bootherd::db;

TEST_CASE("node snapshot: load reads every node, remember replaces one, lookups go by IQN and MAC") {
    auto catalog = test::fresh_catalog();
    Node first;
    {
        auto s = catalog.session();
        first = s.nodes().add({.name = "pc-01", .mac = "52:54:00:00:00:01"});
        s.nodes().add({.name = "pc-02", .mac = "52:54:00:00:00:02", .enabled = false});
    }
    NodeSnapshot known;
    CHECK_FALSE(known.by_iqn(first.iqn));
    known.load(catalog);
    CHECK(known.size() == 2);
    REQUIRE(known.by_iqn(first.iqn));
    CHECK(known.by_iqn(first.iqn)->chap_secret == first.chap_secret);
    REQUIRE(known.by_mac("52:54:00:00:00:02"));
    CHECK(known.by_mac("52:54:00:00:00:02")->name == "pc-02");
    REQUIRE(known.enabled().size() == 1);  // discovery while the catalog is down lists enabled nodes only
    CHECK(known.enabled().front().id == first.id);

    Node moved = first;
    moved.disk_path = "nodes/pc-01-2.vhdx";
    known.remember(moved);
    CHECK(known.size() == 2);
    CHECK(known.by_mac("52:54:00:00:00:01")->disk_path == moved.disk_path);

    // A node removed from the catalog is gone after the next load.
    catalog.session().nodes().remove(first.id);
    known.load(catalog);
    CHECK(known.size() == 1);
    CHECK_FALSE(known.by_iqn(first.iqn));
}
