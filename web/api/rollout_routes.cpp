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
#include "web/api/rollout_json.hpp"
#include "web/api_error.hpp"
#include "web/json_input.hpp"

namespace bootherd::web {
namespace {

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
            items.push_back(rollout_summary_json(session, rollout, now, limits));
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
