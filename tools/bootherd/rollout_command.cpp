// `bootherd image rollout` and `bootherd rollout list|status|pause|resume|abort`: an image version reaching
// its machines stage by stage. These commands write the catalog; a running `bootherd serve` acts on what
// they wrote at its next tick (every few seconds).
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "boots/boot_outcome.hpp"
#include "db/clock.hpp"
#include "imagestore/store/image_store.hpp"
#include "rollouts/rollout_admin.hpp"
#include "rollouts/stage_tally.hpp"
#include "tools/bootherd/cli_output.hpp"
#include "tools/bootherd/commands.hpp"
#include "tools/bootherd/store_options.hpp"
#include "web/api/rollout_json.hpp"

namespace bootherd::cli {
namespace {
using imagestore::store::ImageStore;

struct RolloutOptions {
    std::string data = kDefaultDataDir;
    std::string catalog{};
    std::string image;
    std::int64_t version = 0;
    std::int64_t id = 0;
    std::string canary = "1";
    std::string waves = "100%";
    std::optional<std::int64_t> min_ok;
    std::int64_t max_failures = 0;
    std::string soak = "10m";
    std::int64_t max_parallel = 0;
    std::string hours;
    std::string webhook;
    bool json = false;
};

std::string version_name(std::int64_t number) {
    return "v" + std::to_string(number);
}

std::string seconds(std::int64_t ms) {
    return std::to_string(ms / 1000) + "s";
}

void print_summary(const db::Rollout& r) {
    std::cout << "rollout " << r.id << " of " << r.image << ": " << version_name(r.from_number) << " -> "
              << version_name(r.to_number) << ", " << db::to_string(r.state) << ", stage "
              << r.stages.at(static_cast<std::size_t>(r.current_stage)).name << " (" << r.current_stage + 1
              << "/" << r.stages.size() << ")\n";
}

int run_start(const RolloutOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    rollouts::RolloutRequest request{.image = o.image, .version = o.version, .webhook_url = o.webhook};
    request.plan.canary = o.canary;
    request.plan.waves = o.waves;
    request.plan.criteria.min_ok = o.min_ok;
    request.plan.criteria.max_failures = o.max_failures;
    request.plan.criteria.soak_ms = rollouts::parse_duration_ms(o.soak);
    request.plan.criteria.max_parallel = o.max_parallel;
    if (!o.hours.empty()) {
        const auto [from, to] = rollouts::parse_hours(o.hours);
        request.plan.criteria.hours_from = from;
        request.plan.criteria.hours_to = to;
    }
    const auto rollout = rollouts::RolloutAdmin(store.catalog()).start(request, db::now_ms());
    print_summary(rollout);
    for (const auto& stage : rollout.stages) {
        std::cout << "  " << stage.name << ": ";
        bool first = true;
        for (const auto& member : rollout.members) {
            if (member.stage != stage.index) continue;
            std::cout << (first ? "" : ",") << member.node_name;
            first = false;
        }
        std::cout << " (needs " << stage.min_ok << " ok, " << stage.max_failures
                  << " failure(s) allowed, soak " << seconds(stage.soak_ms) << ")\n";
    }
    return 0;
}

int run_list(const RolloutOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    auto session = store.catalog().session();
    std::optional<std::int64_t> image_id;
    if (!o.image.empty()) {
        const auto image = session.images().find_by_name(o.image);
        if (!image) throw db::NotFound("image " + o.image + " not found");
        image_id = image->id;
    }
    const auto rollouts = session.rollouts().list(image_id);
    if (o.json) {
        boost::json::array items;
        const auto now = db::now_ms();
        for (const auto& r : rollouts)
            items.push_back(web::rollout_summary_json(session, r, now, boots::Thresholds{}));
        print_json(std::cout, boost::json::object{{"items", std::move(items)}});
        return 0;
    }
    Table table({"ID", "IMAGE", "FROM", "TO", "STATE", "STAGE", "STARTED", "REASON"});
    for (const auto& r : rollouts) {
        const auto& stage = r.stages.at(static_cast<std::size_t>(r.current_stage));
        table.add({std::to_string(r.id), r.image, version_name(r.from_number), version_name(r.to_number),
                   std::string(db::to_string(r.state)), stage.name, local_time(r.created_at), r.reason});
    }
    table.print(std::cout);
    return 0;
}

int run_status(const RolloutOptions& o) {
    ImageStore store(o.data, {}, o.catalog);
    auto session = store.catalog().session();
    const auto r = session.rollouts().get(o.id);
    if (o.json) {
        print_json(std::cout, web::rollout_json(session, r, boots::Thresholds{}));
        return 0;
    }
    const auto now = db::now_ms();
    print_summary(r);
    if (!r.reason.empty()) std::cout << "reason: " << r.reason << "\n";
    for (const auto& stage : r.stages) {
        const auto members = rollouts::member_progress(session, r, stage.index, now, boots::Thresholds{});
        const auto seen = rollouts::tally(members);
        std::string state = stage.passed_at                  ? "passed"
                            : stage.index == r.current_stage ? (stage.soaking_since ? "soaking" : "current")
                            : stage.index < r.current_stage  ? "passed"
                                                             : "waiting";
        std::cout << "stage " << stage.index + 1 << " " << stage.name << " [" << state
                  << "]: " << seen.members << " machine(s), " << seen.ok_machines << "/"
                  << std::min(stage.min_ok, seen.members) << " ok, " << seen.failures.size() << "/"
                  << stage.max_failures << " failed, " << seen.booting << " booting";
        if (stage.max_parallel > 0) std::cout << " (at most " << stage.max_parallel << ")";
        if (stage.soaking_since && !stage.passed_at)
            std::cout << ", soaking " << seconds(now - *stage.soaking_since) << " of "
                      << seconds(stage.soak_ms);
        std::cout << "\n";
        for (const auto& member : members) {
            std::cout << "  " << member.member.node_name << ": ";
            if (!member.latest) {
                std::cout << (member.member.granted_at ? "granted, no boot recorded yet"
                                                       : "no boot of " + version_name(r.to_number) + " yet");
            } else {
                std::cout << db::to_string(member.latest->outcome);
                if (!member.latest->reason.empty()) std::cout << " (" << member.latest->reason << ")";
                std::cout << " at "
                          << local_time(member.latest->ended_at.value_or(member.latest->started_at));
            }
            std::cout << "\n";
        }
    }
    for (const auto& event : session.rollouts().events(r.id))
        std::cout << local_time(event.at) << " " << event.kind << " " << event.detail << "\n";
    return 0;
}

int run_transition(const RolloutOptions& o, const std::string& what) {
    ImageStore store(o.data, {}, o.catalog);
    rollouts::RolloutAdmin admin(store.catalog());
    const auto now = db::now_ms();
    const auto r = what == "pause"    ? admin.pause(o.id, "cli", now)
                   : what == "resume" ? admin.resume(o.id, "cli", now)
                                      : admin.abort(o.id, "cli", now);
    print_summary(r);
    return 0;
}

std::string strip_v(std::string text) {
    return !text.empty() && (text[0] == 'v' || text[0] == 'V') ? text.substr(1) : text;
}

}  // namespace

void add_image_rollout_command(CLI::App& image, Action& action) {
    auto o = std::make_shared<RolloutOptions>();
    auto* cmd = image.add_subcommand(
        "rollout",
        "Roll a sealed version out stage by stage: a canary first, then waves; halts and rolls back "
        "by itself when boots of the new version fail");
    add_data_option(*cmd, o->data, o->catalog);
    cmd->add_option("NAME", o->image, "Image name")->required();
    cmd->add_option("VERSION", o->version, "Version number (N or vN)")->required()->transform(strip_v);
    cmd->add_option("--canary", o->canary, "N machines, a GROUP, or NODE,NODE,...")->capture_default_str();
    cmd->add_option("--waves", o->waves,
                    "Cumulative shares (25%,100%) and/or groups after the canary; \"\" for none")
        ->capture_default_str();
    cmd->add_option(
           "--min-ok", o->min_ok,
           "Machines per stage that must boot the new version ok (default: all canary machines, half "
           "of a wave)")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--max-failures", o->max_failures, "Failed boots per stage tolerated; one more halts")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--soak", o->soak, "Time with no failure after a stage has its ok boots (90s, 10m, 2h)")
        ->capture_default_str();
    cmd->add_option("--max-parallel", o->max_parallel,
                    "Machines of a stage booting the new version at once (0: no limit)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--hours", o->hours, "Local hours when new boots may start, FROM-TO (e.g. 8-18)");
    cmd->add_option("--webhook", o->webhook,
                    "http:// URL POSTed a JSON document when the rollout halts or succeeds");
    cmd->callback([o, &action] { action = [o] { return run_start(*o); }; });
}

void add_rollout_command(CLI::App& app, Action& action) {
    auto o = std::make_shared<RolloutOptions>();
    auto* rollout = app.add_subcommand(
        "rollout", "Image rollouts: their progress, and pausing, resuming or aborting one");
    rollout->require_subcommand(1);

    auto* list = rollout->add_subcommand("list", "Rollouts, newest first");
    add_data_option(*list, o->data, o->catalog);
    list->add_option("--image", o->image, "Only this image's rollouts");
    add_json_flag(*list, o->json);
    list->callback([o, &action] { action = [o] { return run_list(*o); }; });

    auto* status =
        rollout->add_subcommand("status", "A rollout's stages, each machine's outcome, and its history");
    add_data_option(*status, o->data, o->catalog);
    status->add_option("ID", o->id, "Rollout id")->required();
    add_json_flag(*status, o->json);
    status->callback([o, &action] { action = [o] { return run_status(*o); }; });

    for (const char* what : {"pause", "resume", "abort"}) {
        const char* help = std::string_view(what) == "pause"
                               ? "Stop giving the new version to more machines (failures still halt it)"
                           : std::string_view(what) == "resume"
                               ? "Go on after a pause, or start the halted stage over after a rollback"
                               : "End the rollout: every machine boots the old version again";
        auto* cmd = rollout->add_subcommand(what, help);
        add_data_option(*cmd, o->data, o->catalog);
        cmd->add_option("ID", o->id, "Rollout id")->required();
        cmd->callback([o, &action, what] { action = [o, what] { return run_transition(*o, what); }; });
    }
}

}  // namespace bootherd::cli
