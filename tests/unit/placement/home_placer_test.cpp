#include <doctest/doctest.h>

#include <cstdio>
#include <map>
#include <string>

#include "db/catalog.hpp"
#include "placement/home_placer.hpp"

using namespace bootherd;
using namespace bootherd::placement;

namespace {

constexpr std::string_view kSha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
constexpr std::int64_t kNow = 1'000'000'000;

struct Cluster {
    db::Catalog catalog = db::Catalog::open_in_memory();
    std::int64_t version = 0;
    std::vector<std::int64_t> servers;

    explicit Cluster(int count, std::int64_t max_booting = 0) {
        auto s = catalog.session();
        const auto image = s.images().create("win");
        auto draft =
            s.versions().add_draft({.image_id = image.id, .file_path = "images/win/v1", .size_bytes = 1});
        version = s.versions().seal(draft.id, 1, kSha256).id;
        for (int i = 1; i <= count; ++i) {
            const auto server =
                s.servers().register_server({.name = "srv-" + std::to_string(i),
                                             .iscsi_portal = "127.0.0." + std::to_string(i) + ":3260",
                                             .capacity = 100,
                                             .max_booting = max_booting},
                                            kNow);
            s.servers().record_verified_copy(server.id, version, kNow);
            servers.push_back(server.id);
        }
    }
    std::int64_t add_node(int i, bool persistent = false) {
        char mac[18];
        std::snprintf(mac, sizeof mac, "02:00:00:00:%02x:%02x", i / 256, i % 256);
        return catalog.session()
            .nodes()
            .add({.name = "pc-" + std::to_string(i), .mac = mac, .persistent = persistent})
            .id;
    }
};

}  // namespace

TEST_CASE("placer: sixty machines booting at once spread evenly over three servers") {
    Cluster cluster(3);
    HomePlacer placer(cluster.catalog, {});
    std::map<std::int64_t, int> per_server;
    for (int i = 0; i < 60; ++i) {
        const auto placement = placer.place(cluster.add_node(i), cluster.version, kNow + i);
        REQUIRE(placement);
        ++per_server[placement->server_id];
    }
    for (const auto id : cluster.servers)
        CHECK(per_server[id] == 20);
}

TEST_CASE("placer: a server whose heartbeat stopped loses its machines at their next boot") {
    Cluster cluster(2);
    HomePlacer placer(cluster.catalog, {.heartbeat_timeout_ms = 30'000});
    const auto node = cluster.add_node(1);
    const auto first = placer.place(node, cluster.version, kNow);
    REQUIRE(first);
    const auto other = first->server_id == cluster.servers[0] ? cluster.servers[1] : cluster.servers[0];
    // An hour later only the other server has kept beating.
    const auto later = kNow + 3'600'000;
    cluster.catalog.session().servers().heartbeat(other, 0, 0, later);
    const auto second = placer.place(node, cluster.version, later);
    REQUIRE(second);
    CHECK(second->server_id == other);
    CHECK(second->moved);
    CHECK(cluster.catalog.session().nodes().get(node).home_server_id == other);
}

TEST_CASE("placer: a persistent machine stays where its disk is") {
    Cluster cluster(3);
    HomePlacer placer(cluster.catalog, {});
    const auto node = cluster.add_node(1, true);
    const auto first = placer.place(node, cluster.version, kNow);
    REQUIRE(first);
    for (int i = 2; i < 12; ++i)
        placer.place(cluster.add_node(i), cluster.version, kNow);
    // Even a dead home keeps it: its disk is nowhere else.
    const auto again = placer.place(node, cluster.version, kNow + 3'600'000);
    REQUIRE(again);
    CHECK(again->server_id == first->server_id);
    CHECK_FALSE(again->moved);
}

TEST_CASE("placer: only servers holding a verified copy, and below their booting cap") {
    Cluster cluster(2, 2);
    cluster.catalog.session().servers().forget_copy(cluster.servers[1], cluster.version);
    HomePlacer placer(cluster.catalog, {});
    REQUIRE(placer.place(cluster.add_node(1), cluster.version, kNow)->server_id == cluster.servers[0]);
    REQUIRE(placer.place(cluster.add_node(2), cluster.version, kNow)->server_id == cluster.servers[0]);
    // Both booting on the only holder: at its cap, nobody may take a third.
    const auto third = cluster.add_node(3);
    CHECK_FALSE(placer.place(third, cluster.version, kNow));
    CHECK_FALSE(cluster.catalog.session().nodes().get(third).home_server_id);
    // Once one is up it no longer counts as booting.
    auto s = cluster.catalog.session();
    s.nodes().set_state(s.nodes().find_by_name("pc-1")->id, "online");
    CHECK(placer.place(third, cluster.version, kNow)->server_id == cluster.servers[0]);
}

TEST_CASE("placer: booting the same machine again does not count it twice") {
    Cluster cluster(2);
    HomePlacer placer(cluster.catalog, {});
    const auto a = cluster.add_node(1);
    const auto first = placer.place(a, cluster.version, kNow);
    REQUIRE(first);
    // Rebooting it alone: the load it had there was its own, so it may stay.
    for (int i = 0; i < 5; ++i)
        CHECK(placer.place(a, cluster.version, kNow + i)->server_id == first->server_id);
}
