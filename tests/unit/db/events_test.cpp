#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "db/catalog.hpp"
#include "temp_dir.hpp"
#include "test_catalog.hpp"

using namespace bootherd::db;

TEST_CASE("events: append, list since an id, per node, prune") {
    auto catalog = test::fresh_catalog();
    auto s = catalog.session();
    const auto node = s.nodes().add({.name = "pc", .mac = "02:00:00:00:00:01"});
    auto events = s.events();
    const auto first = events.append({.kind = "dhcp.discover", .mac = "02-00-00-00-00-01", .at = 1000});
    const auto second =
        events.append({.kind = "dhcp.ack", .node_id = node.id, .detail = R"({"ip":"10.0.0.5"})", .at = 2000});
    const auto third = events.append({.kind = "iscsi.login.firmware", .node_id = node.id, .at = 3000});
    CHECK(first < second);
    CHECK(second < third);

    const auto since = events.list_since(first);
    REQUIRE(since.size() == 2);
    CHECK(since[0].id == second);
    CHECK(since[0].detail == R"({"ip":"10.0.0.5"})");
    CHECK(since[1].kind == "iscsi.login.firmware");
    CHECK(events.list_since(third).empty());
    CHECK(events.list_since(0, 1).size() == 1);

    const auto all = events.list_since(0);
    CHECK(all[0].mac == "02:00:00:00:00:01");  // normalised
    CHECK_FALSE(all[0].node_id.has_value());

    const auto mine = events.list_for_node(node.id);
    REQUIRE(mine.size() == 2);
    CHECK(mine[0].id == third);  // newest first
    CHECK(events.list_recent(1).front().id == third);

    CHECK_THROWS_AS(events.append({.kind = "x", .detail = "{not json"}), InvalidArgument);
    CHECK_THROWS_AS(events.append({.kind = ""}), InvalidArgument);
    // A node that vanished is recorded without the link.
    const auto orphan = events.append({.kind = "dhcp.offer", .node_id = 4242, .at = 4000});
    CHECK_FALSE(events.list_since(third).front().node_id.has_value());

    CHECK(events.prune_older_than(2500) == 2);
    const auto left = events.list_since(0);
    REQUIRE(left.size() == 2);
    CHECK(left[0].id == third);
    // Ids are never reused after a prune, so a stream resuming from `orphan` misses nothing.
    const auto next = events.append({.kind = "tftp.transfer"});
    CHECK(next > orphan);
}

TEST_CASE("leases: upsert by MAC, one holder per address, expiry") {
    auto catalog = test::fresh_catalog();
    auto s = catalog.session();
    auto leases = s.leases();
    leases.upsert({.mac = "02:00:00:00:00:01", .ip = "10.0.0.10", .expires_at = 100, .hostname = "a"});
    leases.upsert({.mac = "02-00-00-00-00-02", .ip = "10.0.0.9", .expires_at = 300, .hostname = "b"});
    try {
        leases.upsert({.mac = "02:00:00:00:00:03", .ip = "10.0.0.9", .expires_at = 100});
        FAIL("address leased twice");
    } catch (const Conflict& e) {
        CHECK(e.field() == "ip");
    }
    leases.upsert({.mac = "020000000001", .ip = "10.0.0.11", .expires_at = 200, .hostname = "a2"});
    const auto a = leases.find("02:00:00:00:00:01");
    REQUIRE(a);
    CHECK(a->ip == "10.0.0.11");
    CHECK(a->hostname == "a2");
    CHECK_FALSE(leases.find_by_ip("10.0.0.10").has_value());
    const auto all = leases.list();
    REQUIRE(all.size() == 2);
    CHECK(all[0].ip == "10.0.0.9");  // numeric order
    CHECK_THROWS_AS(leases.upsert({.mac = "02:00:00:00:00:04", .ip = "10.0.0", .expires_at = 1}),
                    InvalidArgument);
    CHECK(leases.remove_expired(250) == 1);
    CHECK(leases.remove("02:00:00:00:00:02"));
    CHECK_FALSE(leases.remove("02:00:00:00:00:02"));
    CHECK(leases.list().empty());
}

TEST_CASE("discovered machines: first sighting, repeat sightings, enrolled filter") {
    auto catalog = test::fresh_catalog();
    auto s = catalog.session();
    auto discovered = s.discovered();
    auto row = discovered.record_seen("02:00:00:00:00:01", 1000, "x86 BIOS", "PXEClient:Arch:00000");
    CHECK(row.seen_count == 1);
    CHECK(row.first_seen == 1000);
    row = discovered.record_seen("02-00-00-00-00-01", 5000, "x64 UEFI", "PXEClient:Arch:00007");
    CHECK(row.seen_count == 2);
    CHECK(row.first_seen == 1000);
    CHECK(row.last_seen == 5000);
    CHECK(row.arch == "x64 UEFI");
    discovered.record_seen("02:00:00:00:00:02", 3000, "", "");
    CHECK(discovered.list().size() == 2);
    CHECK(discovered.list().front().mac == "02:00:00:00:00:01");  // most recent first
    s.nodes().add({.name = "pc", .mac = "02:00:00:00:00:02"});
    const auto unenrolled = discovered.list(true);
    REQUIRE(unenrolled.size() == 1);
    CHECK(unenrolled[0].mac == "02:00:00:00:00:01");
    CHECK_THROWS_AS(discovered.record_seen("bogus", 1, "", ""), InvalidArgument);
    CHECK(discovered.remove("02:00:00:00:00:01"));
    CHECK_FALSE(discovered.find("02:00:00:00:00:01").has_value());
}

TEST_CASE("discovered machines: trimmed to a cap, the least recently seen go first") {
    auto catalog = test::fresh_catalog();
    auto s = catalog.session();
    auto discovered = s.discovered();
    for (int i = 1; i <= 5; ++i)
        discovered.record_seen("02:00:00:00:00:0" + std::to_string(i), 1000 * i, "", "");
    discovered.record_seen("02:00:00:00:00:01", 9000, "", "");  // seen again: now the most recent
    CHECK(discovered.trim(10) == 0);
    CHECK(discovered.trim(3) == 2);
    const auto rows = discovered.list();
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].mac == "02:00:00:00:00:01");
    CHECK(rows[1].mac == "02:00:00:00:00:05");
    CHECK(rows[2].mac == "02:00:00:00:00:04");
    CHECK(discovered.trim(0) == 3);
    CHECK(discovered.list().empty());
}

TEST_CASE("audit entries are appended and paged newest first") {
    auto catalog = test::fresh_catalog();
    auto s = catalog.session();
    auto audit = s.audit();
    for (int i = 0; i < 5; ++i) {
        audit.append({.actor = "admin", .action = "node.add", .target = "node:pc-" + std::to_string(i)});
    }
    const auto page = audit.list(2);
    REQUIRE(page.size() == 2);
    CHECK(page[0].target == "node:pc-4");
    const auto next = audit.list(10, page.back().id);
    REQUIRE(next.size() == 3);
    CHECK(next.back().target == "node:pc-0");
    CHECK(next.back().detail == "{}");
    CHECK_THROWS_AS(audit.append({.actor = "", .action = "x"}), InvalidArgument);
}

TEST_CASE("one catalog shared by several threads") {
    test::CatalogLocation where;
    auto catalog = Catalog::open(where.str());
    constexpr int threads = 4;
    constexpr int per_thread = 200;
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&catalog, t] {
            for (int i = 0; i < per_thread; ++i) {
                auto s = catalog.session();
                s.events().append(
                    {.kind = "tftp.transfer", .detail = "{\"thread\":" + std::to_string(t) + "}"});
                if (i % 50 == 0) s.nodes().list({.limit = 5});
            }
        });
    }
    for (auto& w : workers)
        w.join();
    CHECK(catalog.session().events().list_since(0, 100000).size() == threads * per_thread);
}

TEST_CASE("two catalogs on the same file (another process, e.g. the CLI) see each other's commits") {
    test::CatalogLocation where;
    auto server = Catalog::open(where.str());
    auto cli = Catalog::open(where.str());
    cli.session().images().create("win11");
    CHECK(server.session().images().find_by_name("win11").has_value());
}

TEST_CASE("a writer in another connection waits for a held write lock instead of failing") {
    test::CatalogLocation where;
    auto server = Catalog::open(where.str());
    auto cli = Catalog::open(where.str());
    std::atomic<bool> locked{false};
    std::thread holder([&] {
        auto s = cli.session();
        Transaction tx(s.database());
        s.images().create("held");
        locked = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        tx.commit();
    });
    while (!locked)
        std::this_thread::yield();
    const auto start = std::chrono::steady_clock::now();
    server.session().images().create("waiting");
    const auto waited = std::chrono::steady_clock::now() - start;
    holder.join();
    CHECK(waited >= std::chrono::milliseconds(100));
    CHECK(server.session().images().list().size() == 2);
}

TEST_CASE("audit search: actor, action and the actions under it, target substring, time range, paging") {
    auto catalog = test::fresh_catalog();
    auto s = catalog.session();
    auto audit = s.audit();
    audit.append({.at = 1000, .actor = "admin", .action = "node.add", .target = "node:PC-01"});
    audit.append({.at = 2000, .actor = "admin", .action = "node.delete", .target = "node:pc-02"});
    audit.append({.at = 3000, .actor = "ops", .action = "nodes.bulk", .target = "node:pc-03"});
    audit.append({.at = 4000, .actor = "ops", .action = "image.import", .target = "image:golden"});
    audit.append({.at = 5000, .actor = "admin", .action = "node", .target = "node:x_y"});
    const auto targets = [](const AuditPage& page) {
        std::vector<std::string> out;
        for (const auto& entry : page.entries)
            out.push_back(entry.target);
        return out;
    };

    const auto all = audit.search({});
    CHECK(all.total == 5);
    CHECK(targets(all) ==
          std::vector<std::string>{"node:x_y", "image:golden", "node:pc-03", "node:pc-02", "node:PC-01"});
    CHECK(audit.search({.actor = "ops"}).total == 2);
    CHECK(audit.search({.actor = "Ops"}).total == 0);
    // "node" is node.add, node.delete and node itself, not nodes.bulk.
    CHECK(targets(audit.search({.action = "node"})) ==
          std::vector<std::string>{"node:x_y", "node:pc-02", "node:PC-01"});
    CHECK(targets(audit.search({.action = "node.add"})) == std::vector<std::string>{"node:PC-01"});
    CHECK(audit.search({.action = "node."}).total == 0);
    CHECK(targets(audit.search({.target = "pc-0"})) ==
          std::vector<std::string>{"node:pc-03", "node:pc-02", "node:PC-01"});
    CHECK(audit.search({.target = "_"}).total == 1);  // no LIKE wildcards
    CHECK(targets(audit.search({.since = 2000, .until = 4000})) ==
          std::vector<std::string>{"node:pc-03", "node:pc-02"});
    CHECK(targets(audit.search({.actor = "admin", .since = 1500})) ==
          std::vector<std::string>{"node:x_y", "node:pc-02"});

    const auto page = audit.search({.limit = 2, .offset = 1});
    CHECK(page.total == 5);
    CHECK(targets(page) == std::vector<std::string>{"image:golden", "node:pc-03"});
    CHECK(audit.search({.limit = 2, .offset = 10}).entries.empty());
    CHECK_THROWS_AS(audit.search({.limit = 0}), InvalidArgument);
    CHECK_THROWS_AS(audit.search({.offset = -1}), InvalidArgument);
}
