#include <doctest/doctest.h>

#include "db/catalog.hpp"
#include "placement/home_table.hpp"

using namespace bootherd;
using namespace bootherd::placement;

TEST_CASE("home table: logins of machines homed on another live server go there, the rest stay") {
    auto catalog = db::Catalog::open_in_memory();
    std::int64_t self = 0, other = 0, dead = 0;
    db::Node here, there, on_dead, nowhere;
    {
        auto s = catalog.session();
        self = s.servers().register_server({.name = "self", .iscsi_portal = "10.0.0.1:3260"}, 100'000).id;
        other = s.servers().register_server({.name = "other", .iscsi_portal = "10.0.0.2:3260"}, 100'000).id;
        dead = s.servers().register_server({.name = "dead", .iscsi_portal = "10.0.0.3:3260"}, 1'000).id;
        here = s.nodes().add({.name = "here", .mac = "02:00:00:00:00:01"});
        there = s.nodes().add({.name = "there", .mac = "02:00:00:00:00:02"});
        on_dead = s.nodes().add({.name = "on-dead", .mac = "02:00:00:00:00:03"});
        nowhere = s.nodes().add({.name = "nowhere", .mac = "02:00:00:00:00:04"});
        s.nodes().set_home_server(here.id, self, 1);
        s.nodes().set_home_server(there.id, other, 1);
        s.nodes().set_home_server(on_dead.id, dead, 1);
    }
    HomeTable table({.self_id = self, .heartbeat_timeout_ms = 30'000});
    CHECK_FALSE(table.portal_elsewhere(there.iqn));  // nothing read yet: everything is served here
    table.refresh(catalog, 100'000);
    CHECK(table.portal_elsewhere(there.iqn) == "10.0.0.2:3260");
    CHECK_FALSE(table.portal_elsewhere(here.iqn));
    CHECK_FALSE(table.portal_elsewhere(on_dead.iqn));  // its server stopped beating 99 s ago
    CHECK_FALSE(table.portal_elsewhere(nowhere.iqn));
    CHECK_FALSE(table.portal_elsewhere("iqn.2026-11.org.bootherd:node.unknown"));

    // A placement made here routes the next login at once; the next refresh agrees with the catalog.
    table.note(nowhere.iqn, "10.0.0.2:3260");
    table.note(there.iqn, std::nullopt);
    CHECK(table.portal_elsewhere(nowhere.iqn) == "10.0.0.2:3260");
    CHECK_FALSE(table.portal_elsewhere(there.iqn));
    table.refresh(catalog, 100'000);
    CHECK_FALSE(table.portal_elsewhere(nowhere.iqn));
    CHECK(table.portal_elsewhere(there.iqn) == "10.0.0.2:3260");

    // Another server has just homed `there` here: the snapshot is stale, the check before redirecting is not.
    catalog.session().nodes().set_home_server(there.id, self, 2);
    CHECK(table.portal_elsewhere(there.iqn) == "10.0.0.2:3260");
    CHECK_FALSE(table.confirmed_portal_elsewhere(catalog, there.iqn, 100'000));
    CHECK_FALSE(table.portal_elsewhere(there.iqn));  // and the snapshot learnt it
    catalog.session().nodes().set_home_server(here.id, other, 3);
    table.refresh(catalog, 100'000);
    CHECK(table.confirmed_portal_elsewhere(catalog, here.iqn, 100'000) == "10.0.0.2:3260");
}
