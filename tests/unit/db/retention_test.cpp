// History pruning: by age, in batches, never a running boot, the audit log by its own age.
#include <doctest/doctest.h>

#include "db/retention.hpp"
#include "test_catalog.hpp"

using namespace bootherd::db;

TEST_CASE("retention: old events, ended boots and audit rows go; recent ones and running boots stay") {
    auto catalog = test::fresh_catalog();
    std::int64_t node_id = 0;
    {
        auto s = catalog.session();
        node_id = s.nodes().add({.name = "pc-1", .mac = "02:00:00:00:00:01"}).id;
        for (int i = 0; i < 25; ++i)
            s.events().append({.kind = "dhcp.discover", .at = 1000 + i});  // old
        s.events().append({.kind = "dhcp.discover", .at = 900'000});       // recent
        s.boots().insert({.node_id = node_id,
                          .mac = "02:00:00:00:00:01",
                          .started_at = 10,
                          .ended_at = 20,
                          .outcome = BootOutcome::ok,
                          .reason = "stayed_up"});
        s.boots().insert({.node_id = node_id, .mac = "02:00:00:00:00:01", .started_at = 30});  // running
        s.audit().append(
            {.at = 50, .actor = "cli", .action = "node.add", .target = "node:pc-1", .detail = "{}"});
        s.audit().append(
            {.at = 500'000, .actor = "cli", .action = "node.set", .target = "node:pc-1", .detail = "{}"});
    }
    const RetentionPolicy policy{.events_ms = 100'000, .boots_ms = 100'000, .audit_ms = 600'000};
    const auto report = prune_history(catalog, policy, 1'000'000, 10);  // 25 events in batches of 10
    CHECK(report.events == 25);
    CHECK(report.boots == 1);
    CHECK(report.audit == 1);
    auto s = catalog.session();
    CHECK(s.events().list_recent().size() == 1);
    const auto boots = s.boots().list({.node_id = node_id}).boots;
    REQUIRE(boots.size() == 1);
    CHECK(boots[0].outcome == BootOutcome::running);
    CHECK(s.audit().list().size() == 1);
    CHECK(prune_history(catalog, {.events_ms = 0, .boots_ms = 0, .audit_ms = 0}, 10'000'000).events == 0);
}
