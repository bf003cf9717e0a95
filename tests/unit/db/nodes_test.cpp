#include <doctest/doctest.h>

#include <cstdio>

#include "db/catalog.hpp"
#include "db/credentials.hpp"
#include "test_catalog.hpp"
#include "tests/unit/db/refusal.hpp"

using namespace bootherd::db;
using bootherd::db::testing::refusal;

namespace {

std::string mac_for(int i) {
    char buffer[18];
    std::snprintf(buffer, sizeof buffer, "02:00:00:00:%02x:%02x", (i >> 8) & 0xff, i & 0xff);
    return buffer;
}

}  // namespace

TEST_CASE("adding a node normalises the MAC and generates IQN and CHAP credentials") {
    auto catalog = test::fresh_catalog();
    auto s = catalog.session();
    const auto node = s.nodes().add({.name = "PC-01", .mac = "5254.00AB.CD0F"});
    CHECK(node.mac == "52:54:00:ab:cd:0f");
    CHECK(node.iqn == "iqn.2026-11.org.bootherd:node.pc-01");
    CHECK(node.chap_user.size() == chap_user_length);
    CHECK(node.chap_secret.size() == chap_secret_length);
    CHECK(node.enabled);
    CHECK(node.state == "new");
    CHECK(node.created_at > 0);
    const auto other = s.nodes().add({.name = "pc-02", .mac = "52:54:00:ab:cd:10"});
    CHECK(other.chap_secret != node.chap_secret);
    CHECK(other.chap_user != node.chap_user);
    CHECK(s.nodes().find_by_mac("52-54-00-AB-CD-0F")->id == node.id);
    CHECK(s.nodes().find_by_name("pc-01")->id == node.id);
    CHECK_FALSE(s.nodes().find_by_mac("garbage").has_value());
}

TEST_CASE("invalid or duplicate node fields are refused with the field named") {
    auto catalog = test::fresh_catalog();
    auto s = catalog.session();
    auto nodes = s.nodes();
    nodes.add({.name = "pc-01", .mac = "02:00:00:00:00:01", .fixed_ip = "10.0.0.5"});
    CHECK(refusal([&] { nodes.add({.name = "PC-01", .mac = "02:00:00:00:00:02"}); }) == "name");
    CHECK(refusal([&] { nodes.add({.name = "pc-02", .mac = "020000000001"}); }) == "mac");
    CHECK(refusal([&] { nodes.add({.name = "pc_01", .mac = "02:00:00:00:00:03"}); }) == "name");  // same IQN
    CHECK(refusal([&] {
              nodes.add({.name = "pc-03", .mac = "02:00:00:00:00:03", .fixed_ip = "10.0.0.5"});
          }) == "fixed_ip");
    CHECK(refusal([&] { nodes.add({.name = "bad name", .mac = "02:00:00:00:00:04"}); }) == "invalid:name");
    CHECK(refusal([&] { nodes.add({.name = "pc-04", .mac = "02:00:00:00:00"}); }) == "invalid:mac");
    CHECK(refusal([&] {
              nodes.add({.name = "pc-04", .mac = "02:00:00:00:00:04", .fixed_ip = "10.0.0.256"});
          }) == "invalid:fixed_ip");
    CHECK(refusal([&] { nodes.add({.name = "pc-04", .mac = "02:00:00:00:00:04", .group_id = 77}); }) ==
          "invalid:group");
    CHECK(refusal([&] { nodes.add({.name = "pc-04", .mac = "02:00:00:00:00:04", .image_id = 77}); }) ==
          "invalid:image");
    CHECK(nodes.list({}).total == 1);
}

TEST_CASE("the schema itself refuses duplicate MACs and unnormalised MACs") {
    auto catalog = test::fresh_catalog();
    auto s = catalog.session();
    s.nodes().add({.name = "a", .mac = "02:00:00:00:00:01"});
    for (const char* mac : {"02:00:00:00:00:01", "02:00:00:00:00:AA"}) {
        auto insert = s.database().prepare_uncached(
            "INSERT INTO nodes (name, mac, iqn, chap_user, chap_secret, created_at) VALUES ('b', ?, 'i', "
            "'u', 's', 0)");
        insert.bind_all(mac);
        CHECK_THROWS_AS(insert.run(), DatabaseError);
    }
}

TEST_CASE("nodes inherit image and persistence from their group unless set") {
    auto catalog = test::fresh_catalog();
    auto s = catalog.session();
    const auto win = s.images().create("win11");
    const auto deb = s.images().create("debian");
    const auto lab = s.groups().create({.name = "lab", .image_id = win.id, .persistent = true});
    const auto inherit = s.nodes().add({.name = "a", .mac = "02:00:00:00:00:01", .group_id = lab.id});
    CHECK(inherit.effective_image_id == win.id);
    CHECK(inherit.effective_persistent);
    CHECK_FALSE(inherit.image_id.has_value());
    const auto own = s.nodes().add({.name = "b",
                                    .mac = "02:00:00:00:00:02",
                                    .group_id = lab.id,
                                    .image_id = deb.id,
                                    .persistent = false});
    CHECK(own.effective_image_id == deb.id);
    CHECK_FALSE(own.effective_persistent);
    const auto loose = s.nodes().add({.name = "c", .mac = "02:00:00:00:00:03"});
    CHECK_FALSE(loose.effective_image_id.has_value());
    CHECK_FALSE(loose.effective_persistent);

    // Deleting the group leaves its members ungrouped.
    s.groups().remove(lab.id);
    CHECK_FALSE(s.nodes().get(inherit.id).group_id.has_value());
    CHECK_FALSE(s.nodes().get(inherit.id).effective_image_id.has_value());
}

TEST_CASE("node listing filters by group, effective image and text, with paging and a total") {
    auto catalog = test::fresh_catalog();
    auto s = catalog.session();
    const auto win = s.images().create("win11");
    const auto lab = s.groups().create({.name = "lab", .image_id = win.id});
    for (int i = 0; i < 25; ++i) {
        char name[16];
        std::snprintf(name, sizeof name, "pc-%02d", i);
        s.nodes().add(
            {.name = name, .mac = mac_for(i), .group_id = i % 2 == 0 ? std::optional(lab.id) : std::nullopt});
    }
    s.nodes().add({.name = "server_1", .mac = "aa:bb:cc:00:00:01", .image_id = win.id});

    auto page = s.nodes().list({.limit = 10});
    CHECK(page.total == 26);
    REQUIRE(page.nodes.size() == 10);
    CHECK(page.nodes.front().name == "pc-00");
    page = s.nodes().list({.limit = 10, .offset = 20});
    REQUIRE(page.nodes.size() == 6);
    CHECK(page.nodes.back().name == "server_1");

    page = s.nodes().list({.group_id = lab.id, .limit = 5, .offset = 10});
    CHECK(page.total == 13);
    REQUIRE(page.nodes.size() == 3);
    CHECK(page.nodes.front().name == "pc-20");

    CHECK(s.nodes().list({.image_id = win.id}).total == 14);  // 13 via the group + the server
    CHECK(s.nodes().list({.search = "PC-1"}).total == 10);
    CHECK(s.nodes().list({.search = "bb:cc"}).total == 1);
    CHECK(s.nodes().list({.search = "_"}).total == 1);  // literal, not the LIKE wildcard
    CHECK(s.nodes().list({.search = "%"}).total == 0);
    CHECK(s.nodes().list({.group_id = lab.id, .search = "pc-0"}).total == 5);
    CHECK_THROWS_AS(s.nodes().list({.limit = 0}), InvalidArgument);
}

TEST_CASE("updating a node revalidates and keeps its IQN") {
    auto catalog = test::fresh_catalog();
    auto s = catalog.session();
    const auto a = s.nodes().add({.name = "a", .mac = "02:00:00:00:00:01"});
    s.nodes().add({.name = "b", .mac = "02:00:00:00:00:02"});
    const auto renamed = s.nodes().update(a.id, {.name = "a2", .enabled = false});
    CHECK(renamed.name == "a2");
    CHECK(renamed.iqn == a.iqn);
    CHECK_FALSE(renamed.enabled);
    CHECK(renamed.mac == a.mac);
    CHECK(refusal([&] { s.nodes().update(a.id, {.mac = "02-00-00-00-00-02"}); }) == "mac");
    CHECK(refusal([&] { s.nodes().update(a.id, {.name = "B"}); }) == "name");
    const auto placed = s.nodes().update(
        a.id, {.persistent = std::optional(true), .fixed_ip = std::optional<std::string>("10.1.2.3")});
    CHECK(placed.persistent == true);
    CHECK(placed.fixed_ip == "10.1.2.3");
    const auto cleared = s.nodes().update(a.id, {.fixed_ip = std::optional<std::string>()});
    CHECK_FALSE(cleared.fixed_ip.has_value());

    s.nodes().record_boot(a.id, "booting", 1234);
    CHECK(s.nodes().get(a.id).state == "booting");
    CHECK(s.nodes().get(a.id).last_boot_at == 1234);
    const auto other = s.nodes().add({.name = "other", .mac = "02:00:00:00:00:09"});
    s.nodes().set_every_state("offline");
    CHECK(s.nodes().get(a.id).state == "offline");
    CHECK(s.nodes().get(other.id).state == "offline");
    CHECK(refusal([&] { s.nodes().set_every_state(""); }) == "invalid:state");
    s.nodes().remove(other.id);
    s.nodes().remove(a.id);
    CHECK_THROWS_AS(s.nodes().get(a.id), NotFound);
    CHECK_THROWS_AS(s.nodes().remove(a.id), NotFound);
}

TEST_CASE("address binding: on by default, from the group unless the node chooses; the boot address") {
    auto catalog = test::fresh_catalog();
    auto s = catalog.session();
    const auto routed = s.groups().create({.name = "routed", .bind_address = false});
    CHECK_FALSE(routed.bind_address);
    CHECK(s.groups().create({.name = "lab"}).bind_address);

    const auto loose = s.nodes().add({.name = "a", .mac = "02:00:00:00:00:01"});
    CHECK(loose.effective_bind_address);
    CHECK_FALSE(loose.bind_address.has_value());
    const auto member = s.nodes().add({.name = "b", .mac = "02:00:00:00:00:02", .group_id = routed.id});
    CHECK_FALSE(member.effective_bind_address);
    const auto own = s.nodes().update(member.id, {.bind_address = std::optional(true)});
    CHECK(own.effective_bind_address);
    CHECK(s.nodes().update(member.id, {.bind_address = std::optional<bool>()}).bind_address == std::nullopt);
    const auto off = s.nodes().add({.name = "c", .mac = "02:00:00:00:00:03", .bind_address = false});
    CHECK_FALSE(off.effective_bind_address);

    CHECK_FALSE(loose.boot_address.has_value());
    s.nodes().set_boot_address(loose.id, "10.0.0.5", 1234);
    const auto booted = s.nodes().get(loose.id);
    CHECK(booted.boot_address == "10.0.0.5");
    CHECK(booted.boot_address_at == 1234);
    s.nodes().set_boot_address(loose.id, std::nullopt, 1235);
    CHECK_FALSE(s.nodes().get(loose.id).boot_address.has_value());
    CHECK_FALSE(s.nodes().get(loose.id).boot_address_at.has_value());
    CHECK_THROWS_AS(s.nodes().set_boot_address(9999, "10.0.0.5", 1), NotFound);
}
