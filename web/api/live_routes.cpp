// Live state: /api/v1/sessions, /api/v1/events (+ /stream), /api/v1/overview, /metrics, /healthz,
// /api/v1/openapi.json and the boot scripts at /boot/{mac}.ipxe.
#include <boost/json.hpp>
#include <map>
#include <memory>

#include "db/clock.hpp"
#include "db/event_notices.hpp"
#include "db/rollouts_repo.hpp"
#include "web/api/api_context.hpp"
#include "web/api/lookup.hpp"
#include "web/api/render.hpp"
#include "web/api_error.hpp"
#include "web/json_input.hpp"
#include "web/metrics.hpp"
#include "web/openapi.hpp"

namespace bootherd::web {
namespace {

std::vector<iscsi::SessionInfo> live_sessions(ApiContext& context) {
    return context.live.sessions ? context.live.sessions() : std::vector<iscsi::SessionInfo>{};
}

std::optional<iscsi::ServerStats> live_stats(ApiContext& context) {
    return context.live.stats ? context.live.stats() : std::nullopt;
}

// Per-session IOPS from the change in each session's command count between two polls.
class IopsTracker {
  public:
    double rate(const iscsi::SessionInfo& info, std::chrono::steady_clock::time_point now) {
        const std::string key = info.target_iqn + '|' + info.initiator_name + '|' + std::to_string(info.isid);
        std::lock_guard lock(mutex_);
        auto& sample = samples_[key];
        double result = sample.iops;
        const double seconds = std::chrono::duration<double>(now - sample.at).count();
        if (sample.at.time_since_epoch().count() != 0 && seconds >= 1.0 && info.commands >= sample.commands) {
            result = static_cast<double>(info.commands - sample.commands) / seconds;
        }
        if (sample.at.time_since_epoch().count() == 0 || seconds >= 1.0) {
            sample = Sample{now, info.commands, result};
        }
        return result;
    }

  private:
    struct Sample {
        std::chrono::steady_clock::time_point at{};
        std::uint64_t commands = 0;
        double iops = 0;
    };
    std::mutex mutex_;
    std::map<std::string, Sample> samples_;
};

NodeCounts count_nodes(ApiContext& context, db::Catalog::Session& session) {
    Renderer renderer(session, context.store.data_dir());
    renderer.load_latest_boots();
    NodeCounts counts;
    db::NodeFilter filter;
    filter.limit = 10000;
    for (const auto& node : session.nodes().list(filter).nodes) {
        ++counts.total;
        switch (renderer.status(node)) {
            case boots::MachineStatus::booted:
                ++counts.booted;
                break;
            case boots::MachineStatus::booting:
                ++counts.booting;
                break;
            case boots::MachineStatus::failed:
                ++counts.failed;
                break;
            case boots::MachineStatus::off:
                ++counts.off;
                break;
        }
    }
    return counts;
}

std::string sse_frames(const std::vector<boost::json::object>& events) {
    std::string text;
    for (const auto& event : events) {
        text += "id: " + std::to_string(event.at("id").as_int64()) +
                "\ndata: " + boost::json::serialize(event) + "\n\n";
    }
    return text;
}

// Every state, 0 when no rollout is in it, so a dashboard's query finds the series.
std::vector<std::pair<std::string, std::int64_t>> rollout_counts(db::Catalog::Session& session) {
    std::vector<std::pair<std::string, std::int64_t>> out;
    const auto counted = db::RolloutsRepo(session.database()).count_by_state();
    for (const auto state : {db::RolloutState::running, db::RolloutState::paused, db::RolloutState::succeeded,
                             db::RolloutState::rolled_back, db::RolloutState::aborted}) {
        std::int64_t count = 0;
        for (const auto& [counted_state, n] : counted)
            if (counted_state == state) count = n;
        out.emplace_back(std::string(db::to_string(state)), count);
    }
    return out;
}

}  // namespace

void add_live_routes(Router& router, ApiContext& context) {
    auto iops = std::make_shared<IopsTracker>();
    router.add(http::verb::get, "/api/v1/sessions", [&context, iops](Request&) {
        const auto sessions = live_sessions(context);
        const auto now = std::chrono::steady_clock::now();
        std::map<std::string, std::string, std::less<>> node_by_iqn;
        {
            auto session = context.store.catalog().session();
            db::NodeFilter filter;
            filter.limit = 10000;
            for (const auto& node : session.nodes().list(filter).nodes)
                node_by_iqn.emplace(node.iqn, node.name);
        }
        boost::json::array items;
        for (const auto& info : sessions) {
            auto node = node_by_iqn.find(info.target_iqn);
            items.push_back({{"node", node == node_by_iqn.end() ? boost::json::value(nullptr)
                                                                : boost::json::value(node->second)},
                             {"initiator", info.initiator_name},
                             {"target", info.target_iqn},
                             {"address", info.peer},
                             {"bytes_read", info.bytes_read},
                             {"bytes_written", info.bytes_written},
                             {"commands", info.commands},
                             {"iops", iops->rate(info, now)}});
        }
        return json_response(boost::json::object{{"items", std::move(items)}});
    });

    router.add(http::verb::get, "/api/v1/events", [&context](Request& request) {
        const auto limit = query_int(request, "limit", 100, 1, 1000);
        const auto after = request.query_value("after");
        const auto after_id = query_int(request, "after", 0, 0, INT64_MAX);
        auto session = context.store.catalog().session();
        Renderer renderer(session, context.store.data_dir());
        std::vector<db::Event> events;
        if (auto node_name = request.query_value("node")) {
            const auto node = node_named(session, *node_name);
            events = session.events().list_for_node(node.id, after ? 100000 : limit);
            std::erase_if(events, [after_id](const db::Event& e) { return e.id <= after_id; });
            if (after) std::reverse(events.begin(), events.end());
            if (static_cast<std::int64_t>(events.size()) > limit)
                events.resize(static_cast<std::size_t>(limit));
        } else if (after) {
            events = session.events().list_since(after_id, limit);  // oldest first: for catching up
        } else {
            events = session.events().list_recent(limit);  // newest first
        }
        boost::json::array items;
        for (const auto& event : events)
            items.push_back(renderer.event(event));
        return json_response(boost::json::object{{"items", std::move(items)}});
    });

    // Polls the events table by id: events are written by other threads and by other processes (the CLI,
    // other servers). With event notices, a poll queries only when some were added since its last query, or
    // when that query stopped at its limit.
    router.add(http::verb::get, "/api/v1/events/stream", [&context](Request& request) {
        std::int64_t last_id = query_int(request, "after", -1, -1, INT64_MAX);
        if (last_id < 0) {
            auto session = context.store.catalog().session();
            const auto newest = session.events().list_recent(1);
            last_id = newest.empty() ? 0 : newest.front().id;
        }
        Response response{.content_type = "text/event-stream"};
        response.body.clear();
        response.stream = [&context, last_id, seen = std::uint64_t{0}, more = false]() mutable {
            const bool notified = !context.event_notices || context.event_notices->may_have_new(seen);
            if (!notified && !more) return std::string();
            constexpr std::int64_t batch = 200;
            auto session = context.store.catalog().session();
            Renderer renderer(session, context.store.data_dir());
            std::vector<boost::json::object> rendered;
            const auto events = session.events().list_since(last_id, batch);
            for (const auto& event : events) {
                rendered.push_back(renderer.event(event));
                last_id = event.id;
            }
            more = static_cast<std::int64_t>(events.size()) == batch;
            return sse_frames(rendered);
        };
        return response;
    });

    router.add(http::verb::get, "/api/v1/overview", [&context](Request&) {
        const auto sessions = live_sessions(context);
        const auto stats = live_stats(context);
        std::uint64_t read_total = 0, written_total = 0;
        if (stats) {
            read_total = stats->bytes_read;
            written_total = stats->bytes_written;
        } else {
            for (const auto& info : sessions) {
                read_total += info.bytes_read;
                written_total += info.bytes_written;
            }
        }
        const auto [read_bps, write_bps] = context.throughput.sample(read_total, written_total);
        auto session = context.store.catalog().session();
        const auto counts = count_nodes(context, session);
        std::int64_t images_bytes = 0, nodes_bytes = 0, full_copies = 0;
        std::map<std::int64_t, std::int64_t> virtual_size;  // version id -> size
        for (const auto& image : session.images().list()) {
            for (const auto& version : session.versions().list(image.id)) {
                images_bytes += version.file_bytes;
                virtual_size[version.id] = version.size_bytes;
            }
        }
        db::NodeFilter filter;
        filter.limit = 10000;
        for (const auto& node : session.nodes().list(filter).nodes) {
            if (!node.disk_path || !node.disk_version_id) continue;
            try {
                nodes_bytes += static_cast<std::int64_t>(
                    imagestore::store::allocated_bytes(context.store.absolute(*node.disk_path)));
            } catch (const std::exception&) {
                // replaced while we looked
            }
            full_copies += virtual_size[*node.disk_version_id];
        }
        const double saved =
            full_copies > 0 ? std::max(0.0, 100.0 * (1.0 - static_cast<double>(images_bytes + nodes_bytes) /
                                                               static_cast<double>(full_copies)))
                            : 0.0;
        return json_response(
            boost::json::object{{"nodes",
                                 {{"total", counts.total},
                                  {"booted", counts.booted},
                                  {"booting", counts.booting},
                                  {"failed", counts.failed},
                                  {"off", counts.off}}},
                                {"storage",
                                 {{"images_bytes", images_bytes},
                                  {"nodes_bytes", nodes_bytes},
                                  {"full_copies_bytes", full_copies},
                                  {"saved_percent", saved}}},
                                {"throughput", {{"read_bps", read_bps}, {"write_bps", write_bps}}},
                                {"sessions", stats ? stats->sessions : sessions.size()}});
    });

    router.add(http::verb::get, "/metrics", [&context](Request&) {
        MetricsSnapshot snapshot;
        const auto sessions = live_sessions(context);
        snapshot.iscsi = live_stats(context);
        snapshot.live_sessions = sessions.size();
        snapshot.boot = context.boot_counters;
        if (context.boot_tracker) snapshot.boot_outcomes = context.boot_tracker->stats().snapshot();
        {
            auto session = context.store.catalog().session();
            snapshot.nodes = count_nodes(context, session);
            snapshot.images = static_cast<std::int64_t>(session.images().list().size());
            snapshot.rollouts = rollout_counts(session);
        }
        return text_response(render_metrics(snapshot), "text/plain; version=0.0.4; charset=utf-8");
    });

    router.add(
        http::verb::get, "/healthz",
        [&context](Request&) {
            context.store.catalog().session().database().exec("SELECT 1");
            return json_response(boost::json::object{{"status", "ok"}});
        },
        RouteOptions{.requires_auth = false});

    router.add(http::verb::get, "/api/v1/openapi.json",
               [](Request&) { return text_response(std::string(openapi_document()), "application/json"); });

    // The node's own script (with its CHAP secret) goes only to a request for that node's MAC from the
    // address the node is bound to; the boot service decides what a MAC gets and who gets it.
    router.add(
        http::verb::get, "/boot/{mac}.ipxe",
        [&context](Request& request) {
            if (!context.boot_script)
                throw ApiError(http::status::not_found, "boot services are not running");
            auto reply = context.boot_script(request.params.at("mac"), request.client);
            switch (reply.status) {
                case BootScriptReply::Status::ok:
                    return text_response(std::move(reply.script), "text/plain; charset=utf-8");
                case BootScriptReply::Status::forbidden:
                    return text_response("this machine's boot script is not for this address\n", "text/plain",
                                         http::status::forbidden);
                case BootScriptReply::Status::unknown:
                    break;
            }
            return text_response("no boot script for this machine\n", "text/plain", http::status::not_found);
        },
        RouteOptions{.requires_auth = false});
}

}  // namespace bootherd::web
