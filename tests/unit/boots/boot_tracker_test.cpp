// The tracker over an in-memory catalog, its clock being the times the test passes.
#include <doctest/doctest.h>

#include <algorithm>

#include "boots/boot_tracker.hpp"

using namespace bootherd;
using namespace bootherd::boots;
using db::BootOutcome;

namespace {

// Any well-formed hash: these tests do not read files (this one is of the empty file).
constexpr std::string_view kSha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

constexpr Thresholds t{.ok_window_ms = 120'000, .os_login_timeout_ms = 300'000, .pending_expiry_ms = 120'000};

struct Fixture {
    db::Catalog catalog = db::Catalog::open_in_memory();
    db::Node node;
    std::int64_t version_id = 0;

    Fixture() {
        auto s = catalog.session();
        const auto image = s.images().create("debian");
        const auto draft = s.versions().add_draft({.image_id = image.id, .file_path = "v1", .size_bytes = 1});
        version_id = s.versions().seal(draft.id, 1, kSha256).id;
        node = s.nodes().add({.name = "pc-01", .mac = "02:00:00:00:00:01", .image_id = image.id});
        s.nodes().set_disk(node.id, version_id, "nodes/pc-01.vhdx");
    }
    std::vector<db::Boot> boots() { return catalog.session().boots().list({.node_id = node.id}).boots; }
    std::vector<std::string> event_kinds() {
        std::vector<std::string> kinds;
        for (const auto& event : catalog.session().events().list_for_node(node.id))
            kinds.push_back(event.kind);
        return kinds;
    }
};

}  // namespace

TEST_CASE("tracker: a boot becomes a row with its version, ends ok by health, and is counted") {
    Fixture f;
    BootTracker tracker(f.catalog, t);
    tracker.on_step(f.node.id, Signal::pxe_dhcp, 1000);
    tracker.on_step(f.node.id, Signal::tftp, 2000);
    tracker.on_step(f.node.id, Signal::script, 3000);
    tracker.on_step(f.node.id, Signal::firmware_login, 4000);
    tracker.on_step(f.node.id, Signal::first_read, 4100);
    tracker.on_step(f.node.id, Signal::os_login, 30'000);
    auto boots = f.boots();
    REQUIRE(boots.size() == 1);
    CHECK(boots[0].outcome == BootOutcome::running);
    CHECK(boots[0].image == "debian");
    CHECK(boots[0].version == 1);
    CHECK(boots[0].started_at == 1000);
    CHECK(boots[0].os_login_at == 30'000);

    CHECK(tracker.report_health(f.node.id, Health::ok, "fine", 40'000));
    boots = f.boots();
    CHECK(boots[0].outcome == BootOutcome::ok);
    CHECK(boots[0].reason == "health_ok");
    CHECK(boots[0].health_at == 40'000);
    CHECK_FALSE(tracker.report_health(f.node.id, Health::ok, "", 41'000));  // no running boot any more

    const auto kinds = f.event_kinds();
    CHECK(std::count(kinds.begin(), kinds.end(), "boot.ok") == 1);
    CHECK(std::count(kinds.begin(), kinds.end(), "boot.health") == 1);
    const auto stats = tracker.stats().snapshot();
    REQUIRE(stats.size() == 1);
    CHECK(stats[0].image == "debian");
    CHECK(stats[0].version == 1);
    CHECK(stats[0].ok == 1);
    CHECK(stats[0].failed == 0);
    CHECK(stats[0].duration_sum_seconds == doctest::Approx(39.0));
    CHECK(stats[0].duration_buckets[3] == 1);  // 39 s: in the 45 s bucket
}

TEST_CASE("tracker: running boots survive a restart and the tick ends them") {
    Fixture f;
    {
        BootTracker before(f.catalog, t);
        before.on_step(f.node.id, Signal::script, 0);
        before.on_step(f.node.id, Signal::firmware_login, 1000);
    }
    BootTracker after(f.catalog, t);
    after.tick(t.os_login_timeout_ms - 1);
    CHECK(f.boots().at(0).outcome == BootOutcome::running);
    // The restarted event log calls the OS's login a firmware login again.
    after.on_step(f.node.id, Signal::firmware_login, 50'000);
    after.tick(50'000 + t.ok_window_ms);
    const auto boot = f.boots().at(0);
    CHECK(boot.outcome == BootOutcome::ok);
    CHECK(boot.reason == "stayed_up");
    CHECK(boot.os_login_at == 50'000);
    CHECK(after.stats().snapshot().at(0).ok == 1);
}

TEST_CASE("tracker: timeouts and reboot loops fail boots, each stored once") {
    Fixture f;
    BootTracker tracker(f.catalog, t);
    tracker.on_step(f.node.id, Signal::script, 0);
    tracker.tick(t.os_login_timeout_ms);
    CHECK(f.boots().at(0).reason == "no_os_login");

    tracker.on_step(f.node.id, Signal::script, 400'000);
    tracker.on_step(f.node.id, Signal::pxe_dhcp, 420'000);
    tracker.on_step(f.node.id, Signal::script, 425'000);
    const auto boots = f.boots();
    REQUIRE(boots.size() == 3);
    CHECK(boots[0].outcome == BootOutcome::running);
    CHECK(boots[0].started_at == 420'000);
    CHECK(boots[1].reason == "reboot_loop");
    CHECK(boots[1].ended_at == 420'000);
    const auto stats = tracker.stats().snapshot();
    CHECK(stats.at(0).failed == 2);
    CHECK(stats.at(0).ok == 0);
    const auto kinds = f.event_kinds();
    CHECK(std::count(kinds.begin(), kinds.end(), "boot.failed") == 2);
}

TEST_CASE("tracker: a failed report; steps of unknown nodes make no rows") {
    Fixture f;
    BootTracker tracker(f.catalog, t);
    tracker.on_step(f.node.id + 100, Signal::script, 0);
    tracker.on_step(f.node.id + 100, Signal::pxe_dhcp, 0);
    CHECK(f.catalog.session().boots().list({}).total == 0);
    CHECK_FALSE(tracker.report_health(f.node.id, Health::failed, "", 1));

    tracker.on_step(f.node.id, Signal::script, 0);
    CHECK(tracker.report_health(f.node.id, Health::failed, "no network", 10'000));
    const auto boot = f.boots().at(0);
    CHECK(boot.outcome == BootOutcome::failed);
    CHECK(boot.reason == "health_failed");
    CHECK(boot.message == "no network");
}
