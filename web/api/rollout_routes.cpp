// /api/v1/rollouts (list, one with its stages, machines and history; pause, resume, abort) and
// POST /api/v1/images/{name}/rollouts (start one). The rules live in rollouts/; RolloutAdmin writes the
// audit rows and events of every change, with the API user as the actor.
#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

#include "db/clock.hpp"
#include "rollouts/rollout_admin.hpp"
#include "rollouts/stage_tally.hpp"
#include "rollouts/webhook.hpp"
#include "web/api/api_context.hpp"
#include "web/api/lookup.hpp"
#include "web/api_error.hpp"
#include "web/json_input.hpp"

namespace bootherd::web {
namespace {

boost::json::value optional_json(const std::optional<std::int64_t>& value) {
    if (!value) return nullptr;
    return *value;
}

boots::Thresholds thresholds(const ApiContext& context) {
    return context.boot_tracker ? context.boot_tracker->thresholds() : boots::Thresholds{};
}

std::string actor(const Request& request) {
    return request.principal ? request.principal->username : std::string("anonymous");
}

// The path's id; anything but a positive number names no rollout.
std::int64_t rollout_id(const Request& request) {
    const auto& text = request.params.at("id");
    std::int64_t id = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (error != std::errc{} || end != text.data() + text.size() || id <= 0)
        throw ApiError(http::status::not_found, "no rollout " + text);
    return id;
}

// Only scheme://host:port/path: the query may carry the receiver's token.
boost::json::value webhook_json(const std::string& url) {
    if (url.empty()) return nullptr;
    const auto parsed = rollouts::parse_webhook_url(url);
    if (!parsed) return nullptr;
    return boost::json::string(parsed->loggable());
}

boost::json::array failures_json(const std::vector<rollouts::StageFailure>& failures) {
    boost::json::array out;
    for (const auto& failure : failures)
        out.push_back({{"node", failure.node},
                       {"reason", failure.reason},
                       {"message", failure.message},
                       {"at", failure.at}});
    return out;
}

boost::json::object stage_json(db::Catalog::Session& session, const db::Rollout& rollout,
                               const db::RolloutStage& stage, std::int64_t now,
                               const boots::Thresholds& limits) {
    const auto members = rollouts::member_progress(session, rollout, stage.index, now, limits);
    const auto tally = rollouts::tally(members);
    boost::json::array member_items;
    for (const auto& progress : members) {
        boost::json::value boot = nullptr;
        if (const auto& latest = progress.latest)
            boot = {{"id", latest->id},
                    {"outcome", db::to_string(latest->outcome)},
                    {"reason", latest->reason},
                    {"message", latest->message},
                    {"started_at", latest->started_at},
                    {"ended_at", optional_json(latest->ended_at)}};
        member_items.push_back({{"node", progress.member.node_name},
                                {"granted_at", optional_json(progress.member.granted_at)},
                                {"boot", std::move(boot)},
                                {"booting", progress.booting}});
    }
    return {{"index", stage.index},
            {"name", stage.name},
            {"min_ok", stage.min_ok},
            {"max_failures", stage.max_failures},
            {"soak_ms", stage.soak_ms},
            {"max_parallel", stage.max_parallel},
            {"hours_from", optional_json(stage.hours_from)},
            {"hours_to", optional_json(stage.hours_to)},
            {"started_at", optional_json(stage.started_at)},
            {"soaking_since", optional_json(stage.soaking_since)},
            {"passed_at", optional_json(stage.passed_at)},
            {"tally",
             {{"members", tally.members},
              {"ok", tally.ok_machines},
              {"failed", static_cast<std::int64_t>(tally.failures.size())},
              {"booting", tally.booting}}},
            {"failures", failures_json(tally.failures)},
            {"members", std::move(member_items)}};
}

// What the list shows of each rollout; a rolled-back one also names its failed machines (the dashboard's
// banner).
boost::json::object summary_json(db::Catalog::Session& session, const db::Rollout& rollout, std::int64_t now,
                                 const boots::Thresholds& limits) {
    boost::json::object out{{"id", rollout.id},
                            {"image", rollout.image},
                            {"from_version", rollout.from_number},
                            {"to_version", rollout.to_number},
                            {"state", db::to_string(rollout.state)},
                            {"reason", rollout.reason},
                            {"current_stage", rollout.current_stage},
                            {"stages", static_cast<std::int64_t>(rollout.stages.size())},
                            {"created_by", rollout.created_by},
                            {"created_at", rollout.created_at},
                            {"updated_at", rollout.updated_at},
                            {"ended_at", optional_json(rollout.ended_at)},
                            {"webhook", webhook_json(rollout.webhook_url)}};
    if (rollout.current_stage >= 0 &&
        rollout.current_stage < static_cast<std::int64_t>(rollout.stages.size())) {
        const auto& stage = rollout.stages[static_cast<std::size_t>(rollout.current_stage)];
        out["stage_name"] = stage.name;
        if (rollout.state == db::RolloutState::rolled_back)
            out["failures"] = failures_json(
                rollouts::tally(rollouts::member_progress(session, rollout, stage.index, now, limits))
                    .failures);
    }
    return out;
}

boost::json::object rollout_json(db::Catalog::Session& session, const db::Rollout& rollout,
                                 const boots::Thresholds& limits) {
    const auto now = db::now_ms();
    auto out = summary_json(session, rollout, now, limits);
    boost::json::array stages;
    for (const auto& stage : rollout.stages)
        stages.push_back(stage_json(session, rollout, stage, now, limits));
    out["stages"] = std::move(stages);
    boost::json::array events;
    for (const auto& event : session.rollouts().events(rollout.id)) {
        boost::system::error_code ignored;
        auto detail = boost::json::parse(event.detail, ignored);
        events.push_back({{"id", event.id},
                          {"at", event.at},
                          {"kind", event.kind},
                          {"detail", detail.is_object() ? std::move(detail) : boost::json::object{}}});
    }
    out["events"] = std::move(events);
    out["now"] = now;  // the server's clock, for the soak countdown
    return out;
}

Response rollout_response(ApiContext& context, std::int64_t id, http::status status = http::status::ok) {
    auto session = context.store.catalog().session();
    const auto rollout = session.rollouts().get(id);
    return json_response(rollout_json(session, rollout, thresholds(context)), status);
}

// ---- the request to start one ----

std::optional<std::int64_t> optional_count(const boost::json::object& body, std::string_view key,
                                           std::int64_t min) {
    const auto* value = body.if_contains(key);
    if (!value || value->is_null()) return std::nullopt;
    const auto number = required_int(body, key);
    if (number < min || number > 1'000'000)
        throw ApiError(http::status::bad_request,
                       std::string(key) + " must be between " + std::to_string(min) + " and 1000000",
                       std::string(key));
    return number;
}

// A string, or a number written as one ("canary": 2).
std::optional<std::string> optional_text(const boost::json::object& body, std::string_view key) {
    const auto* value = body.if_contains(key);
    if (!value || value->is_null()) return std::nullopt;
    if (value->is_int64()) return std::to_string(value->as_int64());
    return optional_string(body, key);
}

// "waves": "25%,100%" or ["25%", "100%"].
std::optional<std::string> waves_text(const boost::json::object& body) {
    const auto* value = body.if_contains("waves");
    if (!value || !value->is_array()) return optional_text(body, "waves");
    std::string out;
    for (const auto& item : value->as_array()) {
        if (!item.is_string() || item.as_string().empty() ||
            item.as_string().find(',') != boost::json::string::npos)
            throw ApiError(http::status::bad_request, "waves must be a list of percentages or group names",
                           "waves");
        if (!out.empty()) out += ',';
        out += item.as_string();
    }
    return out;
}

// "soak": seconds as a number, or "90s", "10m", "1h".
std::optional<std::int64_t> soak_ms(const boost::json::object& body) {
    const auto* value = body.if_contains("soak");
    if (!value || value->is_null()) return std::nullopt;
    if (value->is_int64()) return rollouts::parse_duration_ms(std::to_string(value->as_int64()));
    if (value->is_string()) return rollouts::parse_duration_ms(value->as_string());
    throw ApiError(http::status::bad_request, "soak must be seconds, or a duration such as \"10m\"", "soak");
}

rollouts::RolloutRequest rollout_request(const boost::json::object& body, std::string image,
                                         std::string user) {
    static constexpr std::string_view known[] = {"version", "canary",       "waves", "min_ok", "max_failures",
                                                 "soak",    "max_parallel", "hours", "webhook"};
    for (const auto& entry : body)
        if (std::find(std::begin(known), std::end(known), entry.key()) == std::end(known))
            throw ApiError(http::status::bad_request, "unknown field " + std::string(entry.key()),
                           std::string(entry.key()));
    rollouts::RolloutRequest request{.image = std::move(image), .actor = std::move(user)};
    request.version = required_int(body, "version");
    if (auto canary = optional_text(body, "canary")) request.plan.canary = std::move(*canary);
    if (auto waves = waves_text(body)) request.plan.waves = std::move(*waves);
    auto& criteria = request.plan.criteria;
    criteria.min_ok = optional_count(body, "min_ok", 1);
    if (auto failures = optional_count(body, "max_failures", 0)) criteria.max_failures = *failures;
    if (auto parallel = optional_count(body, "max_parallel", 0)) criteria.max_parallel = *parallel;
    if (auto soak = soak_ms(body)) criteria.soak_ms = *soak;
    if (auto hours = optional_string(body, "hours"); hours && !hours->empty()) {
        const auto [from, to] = rollouts::parse_hours(*hours);
        criteria.hours_from = from;
        criteria.hours_to = to;
    }
    if (auto webhook = optional_string(body, "webhook")) request.webhook_url = std::move(*webhook);
    return request;
}

}  // namespace

void add_rollout_routes(Router& router, ApiContext& context) {
    router.add(http::verb::get, "/api/v1/rollouts", [&context](Request& request) {
        auto session = context.store.catalog().session();
        std::optional<std::int64_t> image_id;
        if (const auto image = request.query_value("image")) image_id = image_named(session, *image).id;
        const auto now = db::now_ms();
        const auto limits = thresholds(context);
        boost::json::array items;
        for (const auto& rollout : session.rollouts().list(image_id))
            items.push_back(summary_json(session, rollout, now, limits));
        return json_response(boost::json::object{{"items", std::move(items)}});
    });

    router.add(http::verb::get, "/api/v1/rollouts/{id}",
               [&context](Request& request) { return rollout_response(context, rollout_id(request)); });

    router.add(http::verb::post, "/api/v1/images/{name}/rollouts", [&context](Request& request) {
        const auto body = parse_object(request.body);
        std::string image;
        {
            auto session = context.store.catalog().session();
            image = image_named(session, request.params.at("name")).name;
        }
        const auto started = rollouts::RolloutAdmin(context.store.catalog())
                                 .start(rollout_request(body, image, actor(request)), db::now_ms());
        return rollout_response(context, started.id, http::status::created);
    });

    using Change = db::Rollout (rollouts::RolloutAdmin::*)(std::int64_t, const std::string&, std::int64_t);
    const std::pair<const char*, Change> changes[] = {{"pause", &rollouts::RolloutAdmin::pause},
                                                      {"resume", &rollouts::RolloutAdmin::resume},
                                                      {"abort", &rollouts::RolloutAdmin::abort}};
    for (const auto& entry : changes) {
        const Change change = entry.second;  // a named copy: clang 14 captures no structured binding
        router.add(http::verb::post, std::string("/api/v1/rollouts/{id}/") + entry.first,
                   [&context, change](Request& request) {
                       rollouts::RolloutAdmin admin(context.store.catalog());
                       const auto changed =
                           (admin.*change)(rollout_id(request), actor(request), db::now_ms());
                       return rollout_response(context, changed.id);
                   });
    }
}

}  // namespace bootherd::web
