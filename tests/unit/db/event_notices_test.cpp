#include "db/event_notices.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <thread>

#include "db/catalog.hpp"
#include "temp_dir.hpp"
#include "test_catalog.hpp"

using namespace bootherd::db;
using namespace std::chrono_literals;

namespace {

// Polls `condition` until it holds or 10 s have passed.
bool eventually(const std::function<bool()>& condition) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return condition();
}

// Listening, and every notification so far seen: the next call says no.
bool quiet(const EventNotices& notices, std::uint64_t& seen) {
    return eventually([&] { return !notices.may_have_new(seen); });
}

void append_event(Catalog& catalog) {
    catalog.session().events().append({.kind = "test.notice", .at = 1});
}

// The backend of the connection listening for events (the one whose last statement was the LISTEN); 0: none.
std::int64_t listener_pid() {
    auto admin = Database::open(*test::postgres_location());
    auto query = admin.prepare_uncached(
        "SELECT pid FROM pg_stat_activity WHERE query = 'LISTEN bootherd_events' AND state = 'idle'");
    return query.step() ? query.int64(0) : 0;
}

// Where this process's stderr (the log) goes while it lives.
class StderrToFile {
  public:
    explicit StderrToFile(std::filesystem::path path) : path_(std::move(path)) {
        std::fflush(stderr);
        saved_ = ::dup(2);
        REQUIRE(std::freopen(path_.c_str(), "w", stderr) != nullptr);
    }
    ~StderrToFile() {
        std::fflush(stderr);
        ::dup2(saved_, 2);
        ::close(saved_);
    }
    StderrToFile(const StderrToFile&) = delete;
    StderrToFile& operator=(const StderrToFile&) = delete;

    std::string text() const {
        std::fflush(stderr);
        std::ifstream in(path_);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

  private:
    std::filesystem::path path_;
    int saved_ = -1;
};

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t count = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
        ++count;
    return count;
}

}  // namespace

TEST_CASE("event notices: an event another connection adds is noticed; on SQLite every poll queries") {
    test::CatalogLocation where;
    auto catalog = Catalog::open(where.str());
    const EventNotices notices(where.str());
    std::uint64_t seen = 0;
    if (!test::on_postgres()) {
        for (int i = 0; i < 3; ++i)
            CHECK(notices.may_have_new(seen));
        append_event(catalog);
        CHECK(notices.may_have_new(seen));
        return;
    }
    // Connecting counts as a notification (events may have been added before), then nothing is new.
    REQUIRE(quiet(notices, seen));
    CHECK_FALSE(notices.may_have_new(seen));

    append_event(catalog);
    CHECK(eventually([&] { return notices.may_have_new(seen); }));
    CHECK_FALSE(notices.may_have_new(seen));

    // Other writes notify nothing.
    catalog.session().images().create("quiet");
    std::this_thread::sleep_for(200ms);
    CHECK_FALSE(notices.may_have_new(seen));

    // Each reader has its own `seen`: one that has not looked yet is told.
    std::uint64_t other = 0;
    CHECK(notices.may_have_new(other));
    CHECK_FALSE(notices.may_have_new(other));
}

TEST_CASE("event notices: a lost connection is listened again, and events still reach the listener") {
    if (!test::on_postgres()) {
        MESSAGE("skipped: BOOTHERD_TEST_CATALOG is not a PostgreSQL URI");
        return;
    }
    test::CatalogLocation where;
    auto catalog = Catalog::open(where.str());
    const EventNotices notices(where.str());
    std::uint64_t seen = 0;
    REQUIRE(quiet(notices, seen));
    const auto first = listener_pid();
    REQUIRE(first != 0);

    // Cut from the server side, as a PostgreSQL restart would.
    {
        auto admin = Database::open(*test::postgres_location());
        auto kill = admin.prepare_uncached("SELECT pg_terminate_backend(CAST(? AS INTEGER))");
        kill.bind_all(first);
        REQUIRE(kill.step());
    }
    // Meanwhile every poll queries; listening again is itself news, then it is quiet.
    CHECK(eventually([&] { return listener_pid() != 0 && listener_pid() != first; }));
    REQUIRE(quiet(notices, seen));

    append_event(catalog);
    CHECK(eventually([&] { return notices.may_have_new(seen); }));
}

TEST_CASE(
    "event notices: an unreachable PostgreSQL is logged once, without its password, and every poll queries") {
    test::TempDir dir;
    const StderrToFile log(dir.path() / "log");
    const EventNotices notices("postgresql://bootherd:s3cr3t-pw@127.0.0.1:1/catalog");
    CHECK(eventually([&] { return log.text().find("live event notices stopped") != std::string::npos; }));
    std::uint64_t seen = 0;
    CHECK(notices.may_have_new(seen));
    CHECK(notices.may_have_new(seen));
    std::this_thread::sleep_for(2500ms);  // two more attempts to connect
    const auto text = log.text();
    CHECK(count_of(text, "live event notices stopped") == 1);
    CHECK(text.find("127.0.0.1") != std::string::npos);
    CHECK(text.find("s3cr3t-pw") == std::string::npos);
}
