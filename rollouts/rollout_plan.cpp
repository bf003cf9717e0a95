#include "rollouts/rollout_plan.hpp"

#include <algorithm>
#include <charconv>
#include <random>
#include <set>

#include "db/error.hpp"

namespace bootherd::rollouts {
namespace {

constexpr std::size_t max_stages = 20;

std::vector<std::string> split(std::string_view text) {
    std::vector<std::string> parts;
    while (true) {
        const auto comma = text.find(',');
        std::string_view part = text.substr(0, comma);
        while (!part.empty() && part.front() == ' ')
            part.remove_prefix(1);
        while (!part.empty() && part.back() == ' ')
            part.remove_suffix(1);
        parts.emplace_back(part);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return parts;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
    std::int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// The candidates not yet placed in a stage, in a stable order.
class Pool {
  public:
    explicit Pool(const std::vector<Candidate>& candidates) : all_(candidates) {}

    std::vector<const Candidate*> remaining() const {
        std::vector<const Candidate*> left;
        for (const auto& candidate : all_)
            if (!placed_.contains(candidate.node_id)) left.push_back(&candidate);
        return left;
    }
    const Candidate* by_name(std::string_view name) const {
        for (const auto& candidate : all_)
            if (candidate.name == name) return &candidate;
        return nullptr;
    }
    bool placed(const Candidate& candidate) const { return placed_.contains(candidate.node_id); }
    void place(const Candidate& candidate) { placed_.insert(candidate.node_id); }
    std::size_t size() const { return all_.size(); }

  private:
    const std::vector<Candidate>& all_;
    std::set<std::int64_t> placed_;
};

bool is_group(std::string_view name, const std::vector<std::string>& group_names) {
    return std::find(group_names.begin(), group_names.end(), name) != group_names.end();
}

std::vector<const Candidate*> canary_machines(std::string_view spec, const Pool& pool,
                                              const std::vector<std::string>& group_names,
                                              std::uint64_t seed) {
    if (spec.empty()) throw db::InvalidArgument("canary", "must name machines, a group or a count");
    std::vector<const Candidate*> chosen;
    if (const auto count = parse_int(spec)) {
        if (*count < 1) throw db::InvalidArgument("canary", "a count must be at least 1");
        auto left = pool.remaining();
        if (static_cast<std::size_t>(*count) > left.size())
            throw db::InvalidArgument("canary", "asks for " + std::to_string(*count) +
                                                    " machine(s), the image has " +
                                                    std::to_string(left.size()) + " that can take part");
        std::mt19937_64 shuffle(seed);
        std::shuffle(left.begin(), left.end(), shuffle);
        chosen.assign(left.begin(), left.begin() + *count);
        std::sort(chosen.begin(), chosen.end(), [](auto* a, auto* b) { return a->name < b->name; });
        return chosen;
    }
    const auto names = split(spec);
    if (names.size() == 1 && is_group(names.front(), group_names)) {
        for (const auto* candidate : pool.remaining())
            if (candidate->group == names.front()) chosen.push_back(candidate);
        if (chosen.empty())
            throw db::InvalidArgument(
                "canary", "group " + names.front() + " has no enabled, non-persistent machine on this image");
        return chosen;
    }
    for (const auto& name : names) {
        const Candidate* candidate = pool.by_name(name);
        if (!candidate)
            throw db::InvalidArgument(
                "canary", name.empty() ? std::string("an empty machine name")
                                       : name + " is not an enabled, non-persistent machine of this image");
        if (std::find(chosen.begin(), chosen.end(), candidate) != chosen.end())
            throw db::InvalidArgument("canary", name + " is named twice");
        chosen.push_back(candidate);
    }
    std::sort(chosen.begin(), chosen.end(), [](auto* a, auto* b) { return a->name < b->name; });
    return chosen;
}

std::vector<const Candidate*> wave_machines(std::string_view part, const Pool& pool,
                                            std::size_t placed_before,
                                            const std::vector<std::string>& group_names) {
    std::vector<const Candidate*> chosen;
    if (!part.empty() && part.back() == '%') {
        const auto percent = parse_int(part.substr(0, part.size() - 1));
        if (!percent || *percent < 1 || *percent > 100)
            throw db::InvalidArgument("waves", std::string(part) + " is not a percentage from 1% to 100%");
        // Cumulative: the wave brings the share of all candidates up to `percent`, rounding up.
        const auto target = (pool.size() * static_cast<std::size_t>(*percent) + 99) / 100;
        auto left = pool.remaining();
        const std::size_t take = target > placed_before ? std::min(target - placed_before, left.size()) : 0;
        chosen.assign(left.begin(), left.begin() + static_cast<std::ptrdiff_t>(take));
        return chosen;
    }
    if (!is_group(part, group_names))
        throw db::InvalidArgument("waves", std::string(part) + " is neither a percentage nor a group");
    for (const auto* candidate : pool.remaining())
        if (candidate->group == part) chosen.push_back(candidate);
    return chosen;
}

db::RolloutStage make_stage(std::int64_t index, std::string name, std::size_t members, bool canary,
                            const StageCriteria& criteria) {
    const auto count = static_cast<std::int64_t>(members);
    const std::int64_t default_min_ok = canary ? count : std::max<std::int64_t>(1, (count + 1) / 2);
    return {.index = index,
            .name = std::move(name),
            .min_ok = std::min(criteria.min_ok.value_or(default_min_ok), count),
            .max_failures = criteria.max_failures,
            .soak_ms = criteria.soak_ms,
            .max_parallel = criteria.max_parallel,
            .hours_from = criteria.hours_from,
            .hours_to = criteria.hours_to};
}

void check_criteria(const StageCriteria& criteria) {
    if (criteria.min_ok && *criteria.min_ok < 1) throw db::InvalidArgument("min_ok", "must be at least 1");
    if (criteria.max_failures < 0) throw db::InvalidArgument("max_failures", "must not be negative");
    if (criteria.soak_ms < 0) throw db::InvalidArgument("soak", "must not be negative");
    if (criteria.max_parallel < 0) throw db::InvalidArgument("max_parallel", "must not be negative");
    if (criteria.hours_from.has_value() != criteria.hours_to.has_value())
        throw db::InvalidArgument("hours", "needs both a first and a last hour");
    for (const auto& hour : {criteria.hours_from, criteria.hours_to})
        if (hour && (*hour < 0 || *hour > 24)) throw db::InvalidArgument("hours", "hours are 0..24");
}

}  // namespace

Plan plan_rollout(const PlanRequest& request, const std::vector<Candidate>& candidates,
                  const std::vector<std::string>& group_names) {
    check_criteria(request.criteria);
    if (candidates.empty())
        throw db::InvalidArgument("canary",
                                  "the image has no enabled, non-persistent machine to roll out to");
    Plan plan;
    Pool pool(candidates);
    auto add_stage = [&](std::string name, const std::vector<const Candidate*>& machines, bool canary) {
        const auto index = static_cast<std::int64_t>(plan.stages.size());
        for (const auto* machine : machines) {
            pool.place(*machine);
            plan.members.push_back({.node_id = machine->node_id, .node_name = machine->name, .stage = index});
        }
        plan.stages.push_back(make_stage(index, std::move(name), machines.size(), canary, request.criteria));
    };
    add_stage("canary", canary_machines(request.canary, pool, group_names, request.seed), true);
    if (!request.waves.empty()) {
        const auto parts = split(request.waves);
        if (parts.size() + 1 > max_stages)
            throw db::InvalidArgument("waves", "at most " + std::to_string(max_stages - 1) + " waves");
        for (const auto& part : parts) {
            const auto machines = wave_machines(part, pool, plan.members.size(), group_names);
            if (machines.empty())
                throw db::InvalidArgument("waves",
                                          part + " has no machine left that is not in an earlier stage");
            add_stage("wave " + std::to_string(plan.stages.size()), machines, false);
        }
    }
    return plan;
}

std::int64_t parse_duration_ms(std::string_view text, const std::string& field) {
    std::int64_t unit = 1000;
    std::string_view digits = text;
    if (!digits.empty()) {
        switch (digits.back()) {
            case 's':
                digits.remove_suffix(1);
                break;
            case 'm':
                unit = 60 * 1000;
                digits.remove_suffix(1);
                break;
            case 'h':
                unit = 60 * 60 * 1000;
                digits.remove_suffix(1);
                break;
            default:
                break;
        }
    }
    constexpr std::int64_t week_ms = 7LL * 24 * 60 * 60 * 1000;
    const auto value = parse_int(digits);
    if (!value || *value < 0 || *value > week_ms / unit)
        throw db::InvalidArgument(
            field, "\"" + std::string(text) + "\" is not a duration such as 90s, 10m or 2h (up to 7 days)");
    return *value * unit;
}

std::pair<std::int64_t, std::int64_t> parse_hours(std::string_view text) {
    const auto dash = text.find('-');
    const auto from = parse_int(text.substr(0, dash));
    const auto to = dash == std::string_view::npos ? std::nullopt : parse_int(text.substr(dash + 1));
    if (!from || !to || *from < 0 || *from > 24 || *to < 0 || *to > 24)
        throw db::InvalidArgument("hours",
                                  "\"" + std::string(text) + "\" is not FROM-TO in hours 0..24 (e.g. 8-18)");
    return {*from, *to};
}

}  // namespace bootherd::rollouts
