// The director over an in-memory catalog, with boots made by the real boot tracker and times passed in by the
// test: stages pass, fail, pace their grants, survive a restart, and lose removed machines.
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "boots/boot_tracker.hpp"
#include "db/error.hpp"
#include "rollouts/rollout_admin.hpp"
#include "rollouts/rollout_director.hpp"

using namespace bootherd;
using namespace bootherd::rollouts;
using boots::Health;
using boots::Signal;

namespace {

// Any well-formed hash: these tests do not read files (this one is of the empty file).
constexpr std::string_view kSha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

constexpr boots::Thresholds t{
    .ok_window_ms = 120'000, .os_login_timeout_ms = 300'000, .pending_expiry_ms = 120'000};
constexpr std::int64_t minute = 60'000;

struct Fixture {
    db::Catalog catalog = db::Catalog::open_in_memory();
    db::Image image;
    std::int64_t v1 = 0, v2 = 0;
    std::vector<db::Node> nodes;
    std::vector<std::pair<std::string, std::string>> notified;  // rollout kind, image
    boots::BootTracker tracker{catalog, t};
    std::optional<RolloutDirector> director;

    explicit Fixture(int machines, std::string image_name = "debian") {
        {
            auto s = catalog.session();
            image = s.images().create(image_name);
            v1 = seal(s, "v1", std::nullopt);
            v2 = seal(s, "v2", v1);
            s.images().promote(image.id, v1);
            for (int i = 1; i <= machines; ++i) {
                auto node = s.nodes().add({.name = image_name + "-" + std::to_string(i),
                                           .mac = mac(image_name, i),
                                           .image_id = image.id});
                s.nodes().set_disk(node.id, v1, "nodes/" + node.name);
                nodes.push_back(node);
            }
        }
        restart();
    }
    std::int64_t seal(db::Catalog::Session& s, const std::string& path, std::optional<std::int64_t> parent) {
        const auto draft = s.versions().add_draft({.image_id = image.id,
                                                   .parent_version_id = parent,
                                                   .file_path = image.name + path,
                                                   .size_bytes = 1});
        return s.versions().seal(draft.id, 1, kSha256).id;
    }
    static std::string mac(const std::string& name, int i) {
        return (name == "debian" ? "02:00:00:00:00:" : "02:00:00:00:01:") + std::string(i < 16 ? "0" : "") +
               [](int v) {
                   const char* hex = "0123456789abcdef";
                   std::string text;
                   if (v >= 16) text += hex[v / 16];
                   return text + hex[v % 16];
               }(i);
    }
    // A new director on the same catalog, as after a server restart.
    void restart() {
        director.reset();
        director.emplace(catalog, t, [this](const db::Rollout& r, std::string_view kind) {
            notified.emplace_back(std::string(kind), r.image);
        });
    }
    db::Rollout start(std::string canary, std::string waves, StageCriteria criteria = {.soak_ms = 0},
                      std::int64_t at = 0) {
        RolloutRequest request{.image = image.name, .version = 2};
        request.plan = {
            .canary = std::move(canary), .waves = std::move(waves), .criteria = criteria, .seed = 1};
        return RolloutAdmin(catalog).start(request, at);
    }
    // A boot of machine `i` (1-based) as the boot service does it: the director picks the version, the disk
    // goes on it, the script step starts the boot record. Returns the version the machine got.
    std::int64_t begin(int i, std::int64_t at) {
        const auto& node = nodes[static_cast<std::size_t>(i - 1)];
        const auto chosen = director->version_for_boot(node.id, at);
        const auto promoted = catalog.session().images().get(image.id).promoted_version_id;
        const std::int64_t version = chosen ? *chosen : *promoted;
        catalog.session().nodes().set_disk(node.id, version, "nodes/" + node.name + std::to_string(at));
        tracker.on_step(node.id, Signal::script, at);
        tracker.on_step(node.id, Signal::firmware_login, at + 1000);
        return version;
    }
    void os_up(int i, std::int64_t at, Health health = Health::ok) {
        const auto& node = nodes[static_cast<std::size_t>(i - 1)];
        tracker.on_step(node.id, Signal::os_login, at);
        tracker.report_health(node.id, health, health == Health::ok ? "" : "disk full", at + 1000);
    }
    void tick(std::int64_t at) {
        tracker.tick(at);
        director->tick(at);
    }
    db::Rollout rollout(std::int64_t id) { return catalog.session().rollouts().get(id); }
    std::optional<std::int64_t> promoted() {
        return catalog.session().images().get(image.id).promoted_version_id;
    }
};

}  // namespace

TEST_CASE("director: a good version passes the canary, then the wave, and is promoted with no admin action") {
    Fixture f(3);
    const auto r = f.start("debian-1", "100%", {.soak_ms = minute});
    CHECK(f.begin(2, 1000) == f.v1);  // a wave machine: not yet
    CHECK(f.begin(1, 1000) == f.v2);  // the canary
    f.os_up(1, 30'000);
    f.tick(35'000);
    CHECK(f.rollout(r.id).stages[0].soaking_since == 35'000);
    f.tick(35'000 + minute - 1);
    CHECK(f.rollout(r.id).current_stage == 0);
    f.tick(35'000 + minute);
    CHECK(f.rollout(r.id).current_stage == 1);
    CHECK(f.promoted() == f.v1);  // not before the last stage passes
    CHECK(f.begin(2, 200'000) == f.v2);
    CHECK(f.begin(1, 200'000) == f.v2);  // a passed stage keeps the new version
    f.os_up(2, 230'000);
    f.tick(240'000);  // the wave needs 1 of its 2 machines
    f.tick(240'000 + minute);
    const auto done = f.rollout(r.id);
    CHECK(done.state == db::RolloutState::succeeded);
    CHECK(f.promoted() == f.v2);
    REQUIRE(f.notified.size() == 1);
    CHECK(f.notified[0].first == "succeeded");
    CHECK(f.director->version_for_boot(f.nodes[2].id, 300'000) == std::nullopt);  // promoted now
}

TEST_CASE("director: a failing canary halts the rollout at once; its machines boot the old version again") {
    Fixture f(3);
    const auto r = f.start("debian-1", "100%", {.soak_ms = minute});
    CHECK(f.begin(1, 1000) == f.v2);
    f.os_up(1, 30'000, Health::failed);
    f.tick(32'000);
    const auto halted = f.rollout(r.id);
    CHECK(halted.state == db::RolloutState::rolled_back);
    CHECK(halted.reason.find("debian-1 (health_failed: \"disk full\")") != std::string::npos);
    CHECK(f.promoted() == f.v1);
    CHECK(f.begin(1, 60'000) == f.v1);  // the canary is back on v1
    CHECK(f.begin(2, 60'000) == f.v1);  // v2 never reached the wave
    REQUIRE(f.notified.size() == 1);
    CHECK(f.notified[0].first == "halted");
    // The event stream and the audit log say so, naming the machine.
    bool event = false;
    for (const auto& e : f.catalog.session().events().list_recent())
        event |= e.kind == "rollout.halted" && e.detail.find("debian-1") != std::string::npos;
    CHECK(event);
    CHECK(f.catalog.session().audit().list().front().action == "rollout.halted");
    // Nothing moves by itself any more; a resume starts the stage over and grants again.
    f.tick(10 * minute);
    CHECK(f.rollout(r.id).state == db::RolloutState::rolled_back);
    RolloutAdmin(f.catalog).resume(r.id, "admin", 11 * minute);
    CHECK(f.begin(1, 11 * minute + 1) == f.v2);
    f.tick(11 * minute + 2);
    CHECK(f.rollout(r.id).state == db::RolloutState::running);  // the old failure no longer counts
}

TEST_CASE("director: a canary that never logs in times out; one that reboots before ok is a reboot loop") {
    SUBCASE("timeout") {
        Fixture f(2);
        const auto r = f.start("debian-1", "");
        f.begin(1, 1000);
        f.tick(1000 + t.os_login_timeout_ms - 1);
        CHECK(f.rollout(r.id).state == db::RolloutState::running);
        f.tick(1000 + t.os_login_timeout_ms + 5000);
        CHECK(f.rollout(r.id).state == db::RolloutState::rolled_back);
        CHECK(f.rollout(r.id).reason.find("debian-1 (no_os_login)") != std::string::npos);
    }
    SUBCASE("reboot loop") {
        Fixture f(2);
        const auto r = f.start("debian-1", "", {.max_failures = 1});
        f.begin(1, 1000);
        f.begin(1, 20'000);  // a new boot before the first was ok: failure 1 (within the budget)
        f.tick(21'000);
        CHECK(f.rollout(r.id).state == db::RolloutState::running);
        f.begin(1, 40'000);  // failure 2
        f.tick(41'000);
        CHECK(f.rollout(r.id).state == db::RolloutState::rolled_back);
        CHECK(f.rollout(r.id).reason.find("reboot_loop") != std::string::npos);
    }
}

TEST_CASE("director: max_parallel paces grants; a machine whose boot ended frees its place") {
    Fixture f(4);
    const auto r = f.start("4", "", {.soak_ms = 0, .max_parallel = 2});
    CHECK(f.begin(1, 1000) == f.v2);
    CHECK(f.begin(2, 1000) == f.v2);
    CHECK(f.begin(3, 1000) == f.v1);  // two are booting v2 already
    f.os_up(1, 30'000);               // ok: no longer booting
    CHECK(f.begin(3, 40'000) == f.v2);
    CHECK(f.begin(4, 40'000) == f.v1);
    // A second boot of a machine that has the version counts too: with 2 and 3 booting, 1 must wait.
    CHECK(f.begin(1, 45'000) == f.v1);
    f.os_up(2, 50'000);
    CHECK(f.begin(1, 50'001) == f.v2);  // 3 and 1 now
    CHECK(f.begin(4, 50'002) == f.v1);
    // A grant with no boot record yet counts at once (the record comes a moment later).
    f.os_up(1, 60'000);
    f.os_up(3, 60'000);
    CHECK(f.director->version_for_boot(f.nodes[3].id, 60'001) == f.v2);
    CHECK(f.director->version_for_boot(f.nodes[1].id, 60'002) == f.v2);
    CHECK(f.director->version_for_boot(f.nodes[2].id, 60'003) == std::nullopt);  // 4 and 2 hold both places
}

TEST_CASE("director: state and timers come back after a restart mid-stage") {
    Fixture f(2);
    const auto r = f.start("debian-1", "100%", {.soak_ms = 10 * minute});
    f.begin(1, 1000);
    f.os_up(1, 30'000);
    f.tick(31'000);  // soak starts
    f.restart();
    f.tick(31'000 + 5 * minute);
    CHECK(f.rollout(r.id).current_stage == 0);
    f.restart();
    CHECK(f.begin(1, 31'000 + 6 * minute) == f.v2);  // its grant survived too
    f.tick(31'000 + 10 * minute);
    CHECK(f.rollout(r.id).current_stage == 1);
    CHECK(f.rollout(r.id).stages[0].passed_at == 31'000 + 10 * minute);
}

TEST_CASE("director: a machine removed mid-rollout leaves its stage, which passes with the others") {
    Fixture f(3);
    const auto r = f.start("debian-1,debian-2", "100%");
    f.begin(1, 1000);
    f.os_up(1, 30'000);
    f.tick(31'000);
    CHECK(f.rollout(r.id).stages[0].soaking_since == std::nullopt);  // needs both canary machines
    f.catalog.session().nodes().remove(f.nodes[1].id);
    f.tick(32'000);
    f.tick(33'000);
    const auto now = f.rollout(r.id);
    CHECK(now.current_stage == 1);
    CHECK(now.members.size() == 2);
}

TEST_CASE("director: rollouts of two images run side by side without touching each other") {
    Fixture f(2, "debian");
    // A second image in the same catalog.
    db::Node other;
    std::int64_t other_v2 = 0;
    {
        auto s = f.catalog.session();
        const auto image = s.images().create("alma");
        const auto d1 = s.versions().add_draft({.image_id = image.id, .file_path = "a1", .size_bytes = 1});
        const auto a1 = s.versions().seal(d1.id, 1, kSha256).id;
        const auto d2 = s.versions().add_draft(
            {.image_id = image.id, .parent_version_id = a1, .file_path = "a2", .size_bytes = 1});
        other_v2 = s.versions().seal(d2.id, 1, kSha256).id;
        s.images().promote(image.id, a1);
        other = s.nodes().add({.name = "alma-1", .mac = "02:00:00:00:02:01", .image_id = image.id});
    }
    const auto debian = f.start("debian-1", "");
    RolloutRequest request{.image = "alma", .version = 2};
    request.plan = {.canary = "alma-1", .waves = "", .criteria = {.soak_ms = 0}};
    const auto alma = RolloutAdmin(f.catalog).start(request, 0);
    CHECK(f.director->version_for_boot(other.id, 1000) == other_v2);
    f.begin(1, 1000);
    f.os_up(1, 30'000, Health::failed);
    f.tick(31'000);
    CHECK(f.rollout(debian.id).state == db::RolloutState::rolled_back);
    CHECK(f.rollout(alma.id).state == db::RolloutState::running);
    CHECK(f.director->version_for_boot(other.id, 32'000) == other_v2);
}

TEST_CASE(
    "admin: one active rollout per image; promote and rollback refuse meanwhile; gc keeps both versions") {
    Fixture f(2);
    const auto r = f.start("1", "");
    CHECK_THROWS_AS(f.start("1", ""), db::Conflict);
    CHECK(f.catalog.session().versions().in_use_ids(f.image.id).size() == 2);
    RolloutAdmin admin(f.catalog);
    admin.pause(r.id, "admin", 10);
    CHECK_THROWS_AS(admin.pause(r.id, "admin", 11), db::Conflict);
    admin.abort(r.id, "admin", 12);
    CHECK_THROWS_AS(admin.resume(r.id, "admin", 13), db::Conflict);
    CHECK(f.director->version_for_boot(f.nodes[0].id, 14) == std::nullopt);
    CHECK_NOTHROW(f.start("1", ""));  // the image is free again
    RolloutRequest draft{.image = "debian", .version = 9};
    CHECK_THROWS_AS(admin.start(draft, 0), db::NotFound);
}
