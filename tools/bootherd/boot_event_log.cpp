#include "tools/bootherd/boot_event_log.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "boot/boot_announcements.hpp"
#include "common/log.hpp"
#include "db/error.hpp"

namespace bootherd::cli {

// Past this many queued entries the catalog is not keeping up; dropping progress notes beats unbounded
// memory.
constexpr std::size_t max_queued_events = 100000;
// How often the tracker is asked to end boots whose timeout passed.
constexpr auto tick_interval = std::chrono::seconds(5);
// How often held events are tried again while the catalog is unreachable.
constexpr auto retry_interval = std::chrono::seconds(1);

std::string event_kind(std::string_view step) {
    std::string kind(step);
    for (char& c : kind)
        if (c == ' ') c = '.';
    return kind;
}

std::string event_detail_json(std::string_view text) {
    std::string json = "{\"detail\":\"";
    for (const char c : text) {
        switch (c) {
            case '"':
                json += "\\\"";
                break;
            case '\\':
                json += "\\\\";
                break;
            case '\n':
                json += "\\n";
                break;
            case '\r':
                json += "\\r";
                break;
            case '\t':
                json += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char escaped[8];
                    std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
                    json += escaped;
                } else {
                    json.push_back(c);
                }
        }
    }
    return json + "\"}";
}

namespace {

std::int64_t to_ms(std::chrono::system_clock::time_point when) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
}

// The boot step a boot service's event is, if any: a DHCP exchange of PXE firmware or iPXE, a finished TFTP
// transfer. (The sanboot script comes through record_boot_script, iSCSI steps through record_session.)
std::optional<boots::Signal> boot_step(std::string_view step, std::string_view detail) {
    if (boot::announces_boot(step, detail)) return boots::Signal::pxe_dhcp;
    if (step == "tftp transfer" && detail.ends_with(" complete")) return boots::Signal::tftp;
    return std::nullopt;
}

std::optional<boots::Signal> session_step(std::string_view kind) {
    if (kind == "iscsi.login.firmware") return boots::Signal::firmware_login;
    if (kind == "iscsi.login.os") return boots::Signal::os_login;
    if (kind == "iscsi.first_read") return boots::Signal::first_read;
    return std::nullopt;
}

// Node IQNs end in ":node.<name>" (lower-cased, '_' as '-'): search by that first, then among all nodes.
std::optional<db::Node> find_node_by_iqn(db::Catalog::Session& session, const std::string& iqn) {
    const auto at = iqn.rfind(":node.");
    std::vector<std::string> searches;
    if (at != std::string::npos) searches.push_back(iqn.substr(at + 6));
    searches.emplace_back();
    for (const auto& search : searches) {
        db::NodeFilter filter{.search = search, .limit = 10000};
        for (auto& candidate : session.nodes().list(filter).nodes)
            if (candidate.iqn == iqn) return std::move(candidate);
    }
    return std::nullopt;
}

// A maintenance machine's session on its draft: the node whose initiator name it is, if it maintains a draft.
std::optional<db::Node> find_maintenance_machine(db::Catalog::Session& session,
                                                 const std::string& initiator) {
    constexpr std::string_view suffix = ":initiator";
    if (!initiator.ends_with(suffix)) return std::nullopt;
    auto node = find_node_by_iqn(session, initiator.substr(0, initiator.size() - suffix.size()));
    if (!node || !session.versions().maintained_by(node->id)) return std::nullopt;
    return node;
}

}  // namespace

BootEventLog::BootEventLog(db::Catalog& catalog, boots::BootTracker& tracker,
                           rollouts::RolloutDirector& rollouts, LiveSessions sessions,
                           std::optional<std::int64_t> home_server)
    : catalog_(catalog),
      tracker_(tracker),
      rollouts_(rollouts),
      sessions_(std::move(sessions)),
      home_server_(home_server),
      writer_([this] { write_loop(); }) {}

BootEventLog::~BootEventLog() {
    stop();
}

void BootEventLog::record(const boot::MacAddress& mac, std::string_view step, std::string_view detail,
                          std::chrono::system_clock::time_point when) {
    enqueue(Entry{mac.to_string(),
                  event_kind(step),
                  std::string(detail),
                  to_ms(when),
                  {},
                  {},
                  boot_step(step, detail)});
}

void BootEventLog::record_boot_script(const boot::MacAddress& mac, std::string_view detail,
                                      std::chrono::system_clock::time_point when) {
    enqueue(Entry{
        mac.to_string(), "script.fetched", std::string(detail), to_ms(when), {}, {}, boots::Signal::script});
}

void BootEventLog::record_session(const iscsi::SessionEvent& event) {
    if (event.target_iqn.empty()) return;
    const char* kind = event.kind == iscsi::SessionEvent::Kind::login    ? "iscsi.login"
                       : event.kind == iscsi::SessionEvent::Kind::logout ? "iscsi.logout"
                                                                         : "iscsi.first_read";
    enqueue(Entry{{},
                  kind,
                  "initiator " + event.initiator_name + " from " + event.peer,
                  to_ms(std::chrono::system_clock::now()),
                  event.target_iqn,
                  event.initiator_name});
}

void BootEventLog::track_sessions() {
    tracking_ = true;
    enqueue(Entry{.mac = {}, .kind = {}, .detail = {}, .at_ms = 0, .target_iqn = {}, .all_presence = true});
}

void BootEventLog::enqueue(Entry entry) {
    {
        const std::lock_guard lock(mutex_);
        if (stopping_ || queue_.size() >= max_queued_events) return;
        queue_.push_back(std::move(entry));
    }
    wake_.notify_one();
}

void BootEventLog::stop() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (writer_.joinable()) writer_.join();
    if (tracking_.exchange(false)) {
        try {
            auto session = catalog_.session();
            record_all_offline(session, home_server_);
        } catch (const std::exception& e) {
            log::warn("boot: could not record every node offline: ", e.what());
        }
    }
}

void BootEventLog::write_loop() {
    std::unique_lock lock(mutex_);
    auto next_tick = std::chrono::steady_clock::now();
    for (;;) {
        if (std::chrono::steady_clock::now() >= next_tick) {
            lock.unlock();
            tick();
            lock.lock();
            next_tick = std::chrono::steady_clock::now() + tick_interval;
        }
        wake_.wait_until(lock, next_tick, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) {
            if (stopping_) return;  // everything is written
            continue;               // time to tick
        }
        std::deque<Entry> batch;
        batch.swap(queue_);
        lock.unlock();
        presence_.reset();
        while (!batch.empty() && write(batch.front()))
            batch.pop_front();
        lock.lock();
        if (batch.empty()) {
            if (held_ > 0)
                log::info("boot: the catalog answers again; the ", held_, " boot event(s) held are written");
            held_ = 0;
            continue;
        }
        // The catalog is unreachable: what is left waits, in order, ahead of what came meanwhile.
        for (auto entry = batch.rbegin(); entry != batch.rend(); ++entry)
            queue_.push_front(std::move(*entry));
        if (queue_.size() > max_queued_events) queue_.resize(max_queued_events);
        if (held_ == 0) log::warn("boot: the catalog is unreachable; boot events are held until it answers");
        held_ = queue_.size();
        if (stopping_) {
            log::warn("boot: stopping with ", held_, " boot event(s) the catalog never got");
            return;
        }
        wake_.wait_for(lock, retry_interval, [this] { return stopping_; });
    }
}

const SessionPresence& BootEventLog::presence() {
    if (!presence_)
        presence_.emplace(sessions_ ? sessions_() : std::vector<iscsi::SessionInfo>{}, home_server_);
    return *presence_;
}

void BootEventLog::record_presence(db::Catalog::Session& session, const db::Node& node) {
    try {
        presence().record(session, node);
    } catch (const std::exception& e) {
        log::warn("boot: could not record whether node ", node.name, " has a session: ", e.what());
    }
}

void BootEventLog::record_all_presence() {
    try {
        auto session = catalog_.session();
        presence().record_all(session);
    } catch (const std::exception& e) {
        log::warn("boot: could not record which nodes have a session: ", e.what());
    }
}

bool BootEventLog::write(Entry& entry) {
    if (entry.all_presence) {
        record_all_presence();
        return true;
    }
    try {
        std::optional<std::int64_t> node_id;
        {
            auto session = catalog_.session();
            std::optional<db::Node> node;
            if (!entry.target_iqn.empty()) {
                // Node targets are boot steps, and a draft's when its maintenance machine boots it (other
                // draft sessions are an administrator's tools).
                node = find_node_by_iqn(session, entry.target_iqn);
                if (!node) node = find_maintenance_machine(session, entry.initiator);
                if (!node) return true;
                entry.mac = node->mac;
                if (entry.kind == "iscsi.login")
                    entry.kind =
                        logins_since_script_[node->id]++ == 0 ? "iscsi.login.firmware" : "iscsi.login.os";
                entry.step = session_step(entry.kind);
            } else {
                node = session.nodes().find_by_mac(entry.mac);
                if (node && entry.kind == "script.fetched") logins_since_script_[node->id] = 0;
            }
            if (node) node_id = node->id;
            // A session came or went, or the boot service wrote the state of a new boot over it.
            if (node && (!entry.target_iqn.empty() || entry.kind == "script.fetched"))
                record_presence(session, *node);
            log_summary(entry, node ? std::optional<std::string>(node->name) : std::nullopt);
            session.events().append(db::NewEvent{.kind = entry.kind,
                                                 .node_id = node_id,
                                                 .mac = entry.mac,
                                                 .detail = event_detail_json(entry.detail),
                                                 .at = entry.at_ms});
        }
        // Outside the catalog session: the tracker takes its own lock first, then the catalog's.
        if (node_id && entry.step) tracker_.on_step(*node_id, *entry.step, entry.at_ms);
    } catch (const db::CatalogUnavailable&) {
        return false;
    } catch (const std::exception& e) {
        log::warn("boot: could not record event ", entry.kind, " of ", entry.mac, ": ", e.what());
    }
    return true;
}

void BootEventLog::log_summary(const Entry& entry, const std::optional<std::string>& node_name) {
    static constexpr std::string_view summaries[] = {"dhcp.offer", "dhcp.ack", "iscsi.login.firmware",
                                                     "iscsi.login.os", "iscsi.first_read"};
    const bool summary =
        std::find(std::begin(summaries), std::end(summaries), entry.kind) != std::end(summaries);
    const log::Level level = summary ? log::Level::info : log::Level::debug;
    if (!log::enabled(level)) return;
    std::string line = "boot: " + (node_name ? "node " + *node_name : "unknown machine");
    if (!entry.mac.empty()) line += " (" + entry.mac + ")";  // iSCSI steps name the node, not the MAC
    line += " " + entry.kind;
    if (!entry.detail.empty()) line += ": " + entry.detail;
    auto& limiter = node_name ? enrolled_steps_ : stranger_steps_;
    if (summary)
        limiter.info(line, RateLimitedLog::Clock::now());
    else
        log::write(level, line);
}

void BootEventLog::tick() {
    const auto now = to_ms(std::chrono::system_clock::now());
    try {
        tracker_.tick(now);
    } catch (const std::exception& e) {
        log::warn("boot: could not end timed-out boots: ", e.what());
    }
    try {
        rollouts_.tick(now);
    } catch (const std::exception& e) {
        log::warn("rollout: could not judge the active rollouts: ", e.what());
    }
}

}  // namespace bootherd::cli
