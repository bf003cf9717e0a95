#pragma once
// Boot progress into the catalog's event table, written by a thread of its own: the DHCP and TFTP threads
// (and the iSCSI network threads) only queue an entry and go on serving. Kinds are the step names with dots
// ("dhcp discover" -> "dhcp.discover"); the detail is {"detail": "..."}. The node is looked up by MAC when
// the entry is written. iSCSI session events are matched to nodes by target IQN: a node's first login after
// it fetched its boot script is the firmware's (iscsi.login.firmware), later ones are the OS's
// (iscsi.login.os). The steps of a boot (PXE DHCP, TFTP, the sanboot script, logins, first read) also go to
// the boot tracker, which keeps each boot's record and outcome; the writer ticks it every few seconds so
// timeouts end boots even when no event comes, and then the rollout director, which judges rollouts from
// those records. Each summary step (DHCP offer and ack, firmware and OS logins, first read) also makes one
// info line (the boot service and the TFTP server log scripts and transfers themselves); the rest are debug
// (-v). Each node's session presence is kept in the catalog as well (session_presence.hpp): after each of
// its session events and boot scripts, for every node once track_sessions() is called, and every node
// offline on stop() after that. While the catalog is unreachable, entries are held in order (within the
// queue's bound) and written once it answers, with the times they happened.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "boot/boot_event_sink.hpp"
#include "boots/boot_tracker.hpp"
#include "common/rate_limited_log.hpp"
#include "db/catalog.hpp"
#include "rollouts/rollout_director.hpp"
#include "target/iscsi/server.hpp"
#include "tools/bootherd/session_presence.hpp"

namespace bootherd::cli {

class BootEventLog final : public boot::BootEventSink {
  public:
    using LiveSessions = std::function<std::vector<iscsi::SessionInfo>()>;
    // `sessions`: the iSCSI server's live sessions (thread-safe), read on the writer thread.
    // `home_server`: with several servers, this one's id (presence is recorded for its nodes only).
    BootEventLog(db::Catalog& catalog, boots::BootTracker& tracker, rollouts::RolloutDirector& rollouts,
                 LiveSessions sessions, std::optional<std::int64_t> home_server);
    ~BootEventLog() override;
    BootEventLog(const BootEventLog&) = delete;
    BootEventLog& operator=(const BootEventLog&) = delete;

    void record(const boot::MacAddress& mac, std::string_view step, std::string_view detail,
                std::chrono::system_clock::time_point when) override;
    // The machine was served its sanboot script ("script fetched"): a boot starts.
    void record_boot_script(const boot::MacAddress& mac, std::string_view detail,
                            std::chrono::system_clock::time_point when);
    // Non-blocking, for the iSCSI server's on_session_event.
    void record_session(const iscsi::SessionEvent& event);
    // Once session events come in: records every node's presence (what happened before is not lost), and
    // every node offline when the log stops.
    void track_sessions();
    // Writes what is queued, then stops the writer thread. Later records are dropped.
    void stop();

  private:
    struct Entry {
        std::string mac;  // empty for iSCSI events
        std::string kind;
        std::string detail;  // the text; the catalog gets it as {"detail": "..."}
        std::int64_t at_ms;
        std::string target_iqn;   // iSCSI events: whose node this is
        std::string initiator{};  // iSCSI events: on a draft, its maintenance machine's initiator name
        std::optional<boots::Signal> step{};  // a boot step, for the tracker
        bool all_presence = false;            // not an event: record every node's session presence
    };
    void enqueue(Entry entry);
    void write_loop();
    // False when the catalog is unreachable: the entry (its login kind settled) is to be written later.
    bool write(Entry& entry);
    // The live sessions as of the batch being written (taken on first use).
    const SessionPresence& presence();
    void record_presence(db::Catalog::Session& session, const db::Node& node);
    void record_all_presence();
    void tick();
    void log_summary(const Entry& entry, const std::optional<std::string>& node_name);

    // Writer thread only: logins per node since its last boot script.
    std::map<std::int64_t, unsigned> logins_since_script_;
    // Writer thread only: one info line per boot step, within bounds (strangers' MACs are the outsiders'
    // part).
    RateLimitedLog enrolled_steps_{2000, std::chrono::seconds(10)};
    RateLimitedLog stranger_steps_{20, std::chrono::seconds(10)};

    db::Catalog& catalog_;
    boots::BootTracker& tracker_;
    rollouts::RolloutDirector& rollouts_;
    LiveSessions sessions_;
    std::optional<std::int64_t> home_server_;
    std::optional<SessionPresence> presence_;  // writer thread only; reset for each batch
    std::atomic<bool> tracking_{false};
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Entry> queue_;
    std::size_t held_ = 0;  // entries waiting for an unreachable catalog
    bool stopping_ = false;
    std::thread writer_;
};

// "dhcp discover" -> "dhcp.discover"
std::string event_kind(std::string_view step);
// {"detail":"<text, JSON-escaped>"}
std::string event_detail_json(std::string_view text);

}  // namespace bootherd::cli
