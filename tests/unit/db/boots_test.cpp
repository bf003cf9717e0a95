#include <doctest/doctest.h>

#include "db/catalog.hpp"
#include "db/error.hpp"

using namespace bootherd::db;

namespace {

// Any well-formed hash: these tests do not read files (this one is of the empty file).
constexpr std::string_view kSha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

Version add_version(Catalog::Session& s, const Image& image, std::int64_t number, bool seal) {
    auto draft = s.versions().add_draft({.image_id = image.id,
                                         .file_path = "images/" + image.name + "/v" + std::to_string(number),
                                         .size_bytes = 1 << 20});
    return seal ? s.versions().seal(draft.id, 1 << 20, kSha256) : draft;
}

Boot running_boot(const Node& node, std::optional<std::int64_t> version_id, std::int64_t at) {
    return Boot{
        .node_id = node.id, .mac = node.mac, .version_id = version_id, .started_at = at, .script_at = at};
}

}  // namespace

TEST_CASE("boots: insert, update, latest, running, joined names") {
    auto catalog = Catalog::open_in_memory();
    auto s = catalog.session();
    const auto image = s.images().create("win");
    const auto v1 = add_version(s, image, 1, true);
    const auto node = s.nodes().add({.name = "pc-01", .mac = "02:00:00:00:00:01"});
    auto boots = s.boots();

    CHECK_FALSE(boots.latest_for_node(node.id));
    const auto first = boots.insert(running_boot(node, v1.id, 1000));
    auto stored = boots.find(first);
    REQUIRE(stored);
    CHECK(stored->node_name == "pc-01");
    CHECK(stored->mac == "02:00:00:00:00:01");
    CHECK(stored->image == "win");
    CHECK(stored->version == 1);
    CHECK_FALSE(stored->draft);
    CHECK(stored->outcome == BootOutcome::running);
    CHECK(stored->script_at == 1000);
    CHECK_FALSE(stored->os_login_at);

    stored->os_login_at = 5000;
    stored->outcome = BootOutcome::ok;
    stored->reason = "stayed_up";
    stored->ended_at = 125000;
    boots.update(*stored);
    const auto second = boots.insert(running_boot(node, v1.id, 200000));
    CHECK(boots.latest_for_node(node.id)->id == second);
    const auto running = boots.running();
    REQUIRE(running.size() == 1);
    CHECK(running[0].id == second);
    const auto ended = boots.find(first);
    CHECK(ended->outcome == BootOutcome::ok);
    CHECK(ended->reason == "stayed_up");
    CHECK(ended->os_login_at == 5000);
    CHECK(ended->ended_at == 125000);
    const auto quiet = s.nodes().add({.name = "pc-02", .mac = "02:00:00:00:00:02"});
    const auto other = s.nodes().add({.name = "pc-03", .mac = "02:00:00:00:00:03"});
    const auto others = boots.insert(running_boot(other, v1.id, 150000));
    const auto latest = boots.latest_by_node();
    CHECK(latest.size() == 2);
    CHECK(latest.at(node.id).id == second);
    CHECK(latest.at(other.id).id == others);
    CHECK(latest.at(other.id).node_name == "pc-03");
    CHECK_FALSE(latest.contains(quiet.id));
}

TEST_CASE("boots: ended_at goes with the outcome; unknown nodes and boots are refused") {
    auto catalog = Catalog::open_in_memory();
    auto s = catalog.session();
    const auto node = s.nodes().add({.name = "pc-01", .mac = "02:00:00:00:00:01"});
    auto boots = s.boots();
    auto boot = running_boot(node, std::nullopt, 1000);
    boot.outcome = BootOutcome::failed;  // without ended_at
    CHECK_THROWS_AS(boots.insert(boot), InvalidArgument);
    boot.ended_at = 2000;
    const auto id = boots.insert(boot);
    boot.id = id;
    boot.ended_at.reset();
    CHECK_THROWS_AS(boots.update(boot), InvalidArgument);
    boot.id = id + 100;
    boot.ended_at = 3000;
    CHECK_THROWS_AS(boots.update(boot), NotFound);
    auto stranger = running_boot(node, std::nullopt, 1000);
    stranger.node_id = node.id + 100;
    CHECK_THROWS_AS(boots.insert(stranger), NotFound);
}

TEST_CASE("boots: filters, paging newest first, per-node bound, cascade") {
    auto catalog = Catalog::open_in_memory();
    auto s = catalog.session();
    const auto win = s.images().create("win");
    const auto lin = s.images().create("linux");
    const auto w1 = add_version(s, win, 1, true);
    const auto w2 = add_version(s, win, 2, false);  // a draft
    const auto l1 = add_version(s, lin, 1, true);
    const auto a = s.nodes().add({.name = "a", .mac = "02:00:00:00:00:01"});
    const auto b = s.nodes().add({.name = "b", .mac = "02:00:00:00:00:02"});
    auto boots = s.boots();
    boots.insert(running_boot(a, w1.id, 1));
    auto failed = running_boot(a, w2.id, 2);
    failed.outcome = BootOutcome::failed;
    failed.ended_at = 3;
    boots.insert(failed);
    boots.insert(running_boot(b, l1.id, 4));

    CHECK(boots.list({}).total == 3);
    CHECK(boots.list({}).boots.front().node_name == "b");
    CHECK(boots.list({.node_id = a.id}).total == 2);
    CHECK(boots.list({.outcome = BootOutcome::failed}).boots.at(0).draft);
    CHECK(boots.list({.image = "WIN"}).total == 2);
    CHECK(boots.list({.image = "win", .version = 2}).total == 1);
    CHECK(boots.list({.version = 1}).total == 2);
    const auto page = boots.list({.limit = 1, .offset = 1});
    REQUIRE(page.boots.size() == 1);
    CHECK(page.boots[0].started_at == 2);
    CHECK(page.total == 3);
    CHECK_THROWS_AS(boots.list({.limit = 0}), InvalidArgument);

    for (int i = 0; i < BootsRepo::kept_per_node + 5; ++i)
        boots.insert(running_boot(b, l1.id, 10 + i));
    CHECK(boots.list({.node_id = b.id}).total == BootsRepo::kept_per_node);
    CHECK(boots.list({.node_id = a.id}).total == 2);

    const auto counts = boots.outcomes_by_version();
    REQUIRE(counts.size() == 3);
    CHECK(counts[0].image == "linux");
    CHECK(counts[0].running == BootsRepo::kept_per_node);
    CHECK(counts[2].image == "win");
    CHECK(counts[2].version == 2);
    CHECK(counts[2].failed == 1);
    CHECK(counts[2].ok == 0);

    s.nodes().remove(a.id);
    CHECK(boots.list({.image = "win"}).total == 0);
}

TEST_CASE("boots: the node bound to an address") {
    auto catalog = Catalog::open_in_memory();
    auto s = catalog.session();
    const auto a = s.nodes().add({.name = "a", .mac = "02:00:00:00:00:01"});
    const auto b = s.nodes().add({.name = "b", .mac = "02:00:00:00:00:02"});
    CHECK_FALSE(s.boots().node_at_boot_address("10.0.0.5"));
    s.nodes().set_boot_address(a.id, "10.0.0.5", 1000);
    CHECK(s.boots().node_at_boot_address("10.0.0.5") == a.id);
    s.nodes().set_boot_address(b.id, "10.0.0.5", 2000);  // b took the address over
    CHECK(s.boots().node_at_boot_address("10.0.0.5") == b.id);
    CHECK_FALSE(s.boots().node_at_boot_address("10.0.0.6"));
}
