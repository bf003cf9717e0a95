// The session presence serve records in nodes.state, over an in-memory catalog and made-up session lists.
#include <doctest/doctest.h>

#include "boots/machine_status.hpp"
#include "db/catalog.hpp"
#include "tools/bootherd/session_presence.hpp"

using namespace bootherd;
using cli::SessionPresence;

namespace {

iscsi::SessionInfo session_on(const db::Node& node) {
    return {.initiator_name = node.iqn + ":initiator", .target_iqn = node.iqn, .peer = "10.0.0.1:50000"};
}

std::string state_of(db::Catalog::Session& s, const db::Node& node) {
    return s.nodes().get(node.id).state;
}

}  // namespace

TEST_CASE("session presence: a node's own session, a maintenance session, another tool's session") {
    auto catalog = db::Catalog::open_in_memory();
    auto s = catalog.session();
    const auto a = s.nodes().add({.name = "a", .mac = "02:00:00:00:00:01"});
    const auto b = s.nodes().add({.name = "b", .mac = "02:00:00:00:00:02"});
    const auto c = s.nodes().add({.name = "c", .mac = "02:00:00:00:00:03"});

    const SessionPresence presence({
        session_on(a),
        // b maintains a draft: its initiator name on the draft's target.
        {.initiator_name = b.iqn + ":initiator",
         .target_iqn = "iqn.2026-11.org.bootherd:draft.golden",
         .peer = "10.0.0.2:50000"},
        // Someone else's tool on c's target... is still a session on c's disk.
        {.initiator_name = "iqn.1994-05.com.example:tool", .target_iqn = c.iqn, .peer = "10.0.0.3:50000"},
    });
    CHECK(presence.has_session(a));
    CHECK(presence.has_session(b));
    CHECK(presence.has_session(c));
    const auto d = s.nodes().add({.name = "d", .mac = "02:00:00:00:00:04"});
    CHECK_FALSE(presence.has_session(d));
    CHECK_FALSE(SessionPresence({}).has_session(a));
}

TEST_CASE("session presence: recorded per node and for all, then all offline") {
    auto catalog = db::Catalog::open_in_memory();
    auto s = catalog.session();
    const auto a = s.nodes().add({.name = "a", .mac = "02:00:00:00:00:01"});
    const auto b = s.nodes().add({.name = "b", .mac = "02:00:00:00:00:02"});
    CHECK(state_of(s, a) == "new");

    // A restart: a's stale "online" from a crash goes, b is already logged in again.
    s.nodes().set_state(a.id, boots::kSessionOnline);
    SessionPresence({session_on(b)}).record_all(s);
    CHECK(state_of(s, a) == boots::kSessionOffline);
    CHECK(state_of(s, b) == boots::kSessionOnline);

    // a logs in; the boot service writes its own state over it when a script is served; a logs out.
    SessionPresence({session_on(a), session_on(b)}).record(s, s.nodes().get(a.id));
    CHECK(state_of(s, a) == boots::kSessionOnline);
    s.nodes().record_boot(a.id, "booting", 1000);
    SessionPresence({session_on(a), session_on(b)}).record(s, s.nodes().get(a.id));
    CHECK(state_of(s, a) == boots::kSessionOnline);
    SessionPresence({session_on(b)}).record(s, s.nodes().get(a.id));
    CHECK(state_of(s, a) == boots::kSessionOffline);
    CHECK(state_of(s, b) == boots::kSessionOnline);

    // What the CLI then makes of it.
    CHECK(boots::machine_status(state_of(s, b), std::nullopt, 0) == boots::MachineStatus::booted);
    CHECK(boots::machine_status(state_of(s, a), std::nullopt, 0) == boots::MachineStatus::off);

    cli::record_all_offline(s);
    CHECK(state_of(s, a) == boots::kSessionOffline);
    CHECK(state_of(s, b) == boots::kSessionOffline);
}

TEST_CASE("session presence: with several servers, each records only the nodes it homes (or nobody does)") {
    auto catalog = db::Catalog::open_in_memory();
    auto s = catalog.session();
    const auto here = s.servers().register_server({.name = "here", .iscsi_portal = "127.0.0.1:3260"}, 1).id;
    const auto there = s.servers().register_server({.name = "there", .iscsi_portal = "127.0.0.2:3260"}, 1).id;
    const auto mine = s.nodes().add({.name = "mine", .mac = "02:00:00:00:00:01"});
    const auto theirs = s.nodes().add({.name = "theirs", .mac = "02:00:00:00:00:02"});
    const auto unplaced = s.nodes().add({.name = "unplaced", .mac = "02:00:00:00:00:03"});
    s.nodes().set_home_server(mine.id, here, 1);
    s.nodes().set_home_server(theirs.id, there, 1);
    s.nodes().set_state(theirs.id, boots::kSessionOnline);  // the other server sees it logged in
    s.nodes().set_state(unplaced.id, boots::kSessionOnline);

    // This server has no session of `theirs`: what the other server recorded stands.
    SessionPresence({session_on(mine)}, here).record_all(s);
    CHECK(state_of(s, mine) == boots::kSessionOnline);
    CHECK(state_of(s, theirs) == boots::kSessionOnline);
    CHECK(state_of(s, unplaced) == boots::kSessionOffline);
    SessionPresence({}, here).record(s, s.nodes().get(theirs.id));
    CHECK(state_of(s, theirs) == boots::kSessionOnline);

    cli::record_all_offline(s, here);
    CHECK(state_of(s, mine) == boots::kSessionOffline);
    CHECK(state_of(s, theirs) == boots::kSessionOnline);
}
