#include "db/event_notices.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <memory>
#include <string_view>
#include <system_error>

#include "common/log.hpp"
#include "db/database.hpp"
#include "db/error.hpp"
#include "db/postgres_backend.hpp"

namespace bootherd::db {
namespace {

// The channel the events table's trigger notifies (migrations.cpp, schema v9).
constexpr const char* listen_sql = "LISTEN bootherd_events";
constexpr std::chrono::milliseconds reconnect_delay{1000};

struct ConnectionCloser {
    void operator()(PGconn* connection) const noexcept { PQfinish(connection); }
};
using Connection = std::unique_ptr<PGconn, ConnectionCloser>;

CatalogUnavailable lost(const PGconn* connection, std::string_view what) {
    std::string message = PQerrorMessage(connection);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
        message.pop_back();
    return CatalogUnavailable("catalog " + describe_postgres(connection) + ": " + std::string(what) + ": " +
                              message);
}

int make_eventfd() {
    const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    return fd;
}

}  // namespace

EventNotices::EventNotices(const std::string& location)
    : wake_(Database::is_postgres_location(location) ? make_eventfd() : -1) {
    if (wake_.get() >= 0) thread_ = std::thread([this, location] { run(location); });
}

EventNotices::~EventNotices() {
    if (!thread_.joinable()) return;
    stopping_ = true;
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(wake_.get(), &one, sizeof one);
    thread_.join();
}

bool EventNotices::may_have_new(std::uint64_t& seen) const noexcept {
    if (!listening_) return true;
    const std::uint64_t now = generation_;
    if (now == seen) return false;
    seen = now;
    return true;
}

void EventNotices::run(const std::string& location) {
    bool outage_reported = false;
    while (!stopping_) {
        try {
            listen(location, outage_reported);
        } catch (const std::exception& e) {
            listening_ = false;
            if (!outage_reported) {
                log::warn("catalog: live event notices stopped (", e.what(),
                          "); the event stream queries the catalog at every poll until they are back");
                outage_reported = true;
            }
        }
        if (!stopping_) wait_to_reconnect();
    }
}

// Listens until stopped (returns) or the connection is lost (throws).
void EventNotices::listen(const std::string& location, bool& outage_reported) {
    const Connection connection(connect_postgres(location));
    PGconn* conn = connection.get();
    {
        const std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn, listen_sql), &PQclear);
        if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) throw lost(conn, "LISTEN");
    }
    ++generation_;  // before listening_, so that a caller who sees it listening sees this too
    listening_ = true;
    log::info("catalog: listening for new events on ", describe_postgres(conn),
              outage_reported ? " again" : "");
    outage_reported = false;
    while (!stopping_) {
        bool notified = false;
        while (PGnotify* notice = PQnotifies(conn)) {
            PQfreemem(notice);
            notified = true;
        }
        if (notified) ++generation_;
        std::array<pollfd, 2> fds{{{PQsocket(conn), POLLIN, 0}, {wake_.get(), POLLIN, 0}}};
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "poll");
        }
        if (fds[1].revents != 0) return;
        if (PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK) throw lost(conn, "connection lost");
    }
}

void EventNotices::wait_to_reconnect() const {
    pollfd wake{wake_.get(), POLLIN, 0};
    ::poll(&wake, 1, static_cast<int>(reconnect_delay.count()));
}

}  // namespace bootherd::db
