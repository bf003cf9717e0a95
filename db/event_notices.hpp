#pragma once
// Notice of new events on a PostgreSQL catalog that several servers share. A thread of its own holds a second
// connection that LISTENs on the channel bootherd_events, which every statement adding events notifies (the
// trigger of schema v9), whichever server or CLI wrote them, and counts the notifications. A reader of the
// events table asks may_have_new() before each query and skips the query when nothing was added since.
//
// On SQLite, and on PostgreSQL while the connection is not listening (before it first connects, after it was
// lost: logged once, then retried every second), every call says yes, so callers poll the table as they would
// without it. Each start of listening is logged, and counts as a notification: some may have been missed.
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "common/unique_fd.hpp"

namespace bootherd::db {

class EventNotices {
  public:
    // `location`: where the catalog is (as for db::Catalog::open); only a PostgreSQL URI starts a listener.
    explicit EventNotices(const std::string& location);
    ~EventNotices();  // stops the listener and joins it
    EventNotices(const EventNotices&) = delete;
    EventNotices& operator=(const EventNotices&) = delete;

    // Call before querying the events table, with `seen` starting at 0 for each reader. True when events may
    // have been added since the call that last set `seen` (which is then brought up to date); false only when
    // listening and nothing was notified since. A notification arriving during the caller's query makes the
    // next call true, so no event is missed.
    bool may_have_new(std::uint64_t& seen) const noexcept;

  private:
    void run(const std::string& location);
    void listen(const std::string& location, bool& outage_reported);
    void wait_to_reconnect() const;

    std::atomic<std::uint64_t> generation_{0};  // notifications and (re)connections; 0 until listening
    std::atomic<bool> listening_{false};
    std::atomic<bool> stopping_{false};
    UniqueFd wake_;  // an eventfd the destructor signals, so that the thread stops at once
    std::thread thread_;
};

}  // namespace bootherd::db
