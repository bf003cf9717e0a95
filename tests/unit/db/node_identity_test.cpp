// A machine's own identity: its host name (explicit or its node name) and its fixed address.
#include <doctest/doctest.h>

#include <sstream>

#include "db/catalog.hpp"
#include "db/identifiers.hpp"
#include "test_catalog.hpp"
#include "tests/unit/db/refusal.hpp"

using namespace bootherd::db;
using bootherd::db::testing::refusal;

namespace {

std::string describe(const ImportReport& report) {
    std::ostringstream os;
    for (const auto& p : report.problems)
        os << p.line << ' ' << p.field << ": " << p.message << '\n';
    return os.str();
}

bool has_problem(const ImportReport& report, std::size_t line, const std::string& field) {
    for (const auto& p : report.problems)
        if (p.line == line && p.field == field) return true;
    return false;
}

}  // namespace

TEST_CASE("host names follow RFC 1123 and come back in lower case") {
    CHECK(canonical_hostname("PC-01") == "pc-01");
    CHECK(canonical_hostname("lab1.Example.org") == "lab1.example.org");
    CHECK(canonical_hostname("3com") == "3com");
    CHECK(canonical_hostname("a") == "a");
    CHECK(canonical_hostname(std::string(63, 'x')) == std::string(63, 'x'));
    std::string longest;
    for (int i = 0; i < 4; ++i)
        longest += std::string(i == 3 ? 61 : 63, 'a') + (i == 3 ? "" : ".");
    REQUIRE(longest.size() == 253);
    CHECK(canonical_hostname(longest) == longest);
    for (const std::string& bad :
         {std::string(), std::string(64, 'x'), longest + "a", std::string("-pc"), std::string("pc-"),
          std::string("pc_01"), std::string("pc..lab"), std::string(".pc"), std::string("pc."),
          std::string("pc 1"), std::string("10.0.0.5"), std::string("123"), std::string("host.42"),
          std::string("pc\xc3\xa9"), std::string("a.-b")}) {
        CAPTURE(bad);
        CHECK_FALSE(canonical_hostname(bad).has_value());
    }
    CHECK_THROWS_AS(require_hostname("hostname", "bad_name"), InvalidArgument);
}

TEST_CASE("a node goes by its explicit host name, else by its name when that is a host name") {
    auto catalog = test::fresh_catalog();
    auto nodes = catalog.session().nodes();
    const auto named = nodes.add({.name = "PC-01", .mac = "02:00:00:00:00:01"});
    CHECK_FALSE(named.hostname.has_value());
    CHECK(named.effective_hostname == "pc-01");
    const auto underscore = nodes.add({.name = "pc_02", .mac = "02:00:00:00:00:02"});
    CHECK_FALSE(underscore.effective_hostname.has_value());  // '_' is no host name character
    const auto given = nodes.add({.name = "pc-03", .mac = "02:00:00:00:00:03", .hostname = "Desk3.Lab"});
    CHECK(given.hostname == "desk3.lab");
    CHECK(given.effective_hostname == "desk3.lab");

    const auto renamed = nodes.update(underscore.id, {.hostname = std::optional<std::string>("desk2")});
    CHECK(renamed.effective_hostname == "desk2");
    const auto cleared = nodes.update(given.id, {.hostname = std::optional<std::string>()});
    CHECK_FALSE(cleared.hostname.has_value());
    CHECK(cleared.effective_hostname == "pc-03");
    CHECK(refusal([&] { nodes.update(given.id, {.hostname = std::optional<std::string>("bad_host")}); }) ==
          "invalid:hostname");
}

TEST_CASE("two machines never share a host name, whether given or taken from the node name") {
    auto catalog = test::fresh_catalog();
    auto nodes = catalog.session().nodes();
    nodes.add({.name = "pc-01", .mac = "02:00:00:00:00:01"});
    nodes.add({.name = "pc-02", .mac = "02:00:00:00:00:02", .hostname = "desk"});
    // Explicit against explicit, in any letter case.
    CHECK(refusal([&] { nodes.add({.name = "pc-03", .mac = "02:00:00:00:00:03", .hostname = "DESK"}); }) ==
          "hostname");
    // Explicit against another node's name.
    CHECK(refusal([&] { nodes.add({.name = "pc-03", .mac = "02:00:00:00:00:03", .hostname = "PC-01"}); }) ==
          "hostname");
    // A node named like another node's explicit host name, without a host name of its own.
    CHECK(refusal([&] { nodes.add({.name = "desk", .mac = "02:00:00:00:00:03"}); }) == "hostname");
    // ...is fine once it has one.
    CHECK(refusal([&] { nodes.add({.name = "desk", .mac = "02:00:00:00:00:03", .hostname = "desk-b"}); }) ==
          "no error");
    // A node keeps its own host name through an update of something else.
    const auto pc2 = nodes.find_by_name("pc-02");
    CHECK(refusal([&] { nodes.update(pc2->id, {.enabled = false}); }) == "no error");
    CHECK(nodes.list({}).total == 3);
}

TEST_CASE("the schema keeps host names unique (given or the node name) and lower case") {
    auto catalog = test::fresh_catalog();
    auto s = catalog.session();
    s.nodes().add({.name = "a", .mac = "02:00:00:00:00:01", .hostname = "host-a"});
    s.nodes().add({.name = "b", .mac = "02:00:00:00:00:02"});
    CHECK_THROWS_AS(s.database().exec("UPDATE nodes SET hostname = 'host-a' WHERE name = 'b'"),
                    DatabaseError);
    CHECK_THROWS_AS(s.database().exec("UPDATE nodes SET hostname = 'Host-B' WHERE name = 'b'"),
                    DatabaseError);
    // ...and a host name equal to another node's name, which that node goes by.
    s.nodes().add({.name = "c", .mac = "02:00:00:00:00:03"});
    CHECK_THROWS_AS(s.database().exec("UPDATE nodes SET hostname = 'c' WHERE name = 'b'"), DatabaseError);
    s.database().exec("UPDATE nodes SET hostname = 'host-b' WHERE name = 'b'");
}

TEST_CASE("fixed addresses: unicast host addresses only, one machine each") {
    auto catalog = test::fresh_catalog();
    auto nodes = catalog.session().nodes();
    const auto a = nodes.add({.name = "a", .mac = "02:00:00:00:00:01", .fixed_ip = "192.168.10.20"});
    CHECK(a.fixed_ip == "192.168.10.20");
    for (const char* bad : {"0.0.0.0", "0.1.2.3", "127.0.0.1", "169.254.1.1", "224.0.0.1", "239.1.1.1",
                            "240.0.0.1", "255.255.255.255", "10.0.0", "10.0.0.1/24", "host"}) {
        CAPTURE(bad);
        CHECK(refusal([&] { nodes.add({.name = "b", .mac = "02:00:00:00:00:02", .fixed_ip = bad}); }) ==
              "invalid:fixed_ip");
    }
    try {
        nodes.add({.name = "b", .mac = "02:00:00:00:00:02", .fixed_ip = "192.168.10.20"});
        FAIL("a second machine got the same fixed address");
    } catch (const Conflict& e) {
        CHECK(e.field() == "fixed_ip");
        CHECK(std::string(e.what()).find("node 'a'") != std::string::npos);
    }
    const auto b = nodes.add({.name = "b", .mac = "02:00:00:00:00:02", .fixed_ip = "192.168.10.21"});
    CHECK(refusal([&] { nodes.update(b.id, {.fixed_ip = std::optional<std::string>("192.168.10.20")}); }) ==
          "fixed_ip");
}

TEST_CASE("CSV import reads hostname and ip columns; files without them still import") {
    auto catalog = test::fresh_catalog();
    auto nodes = catalog.session().nodes();
    const auto report = nodes.import_csv(
        "name,mac,hostname,ip\n"
        "pc-01,02:00:00:00:00:01,Desk1,10.0.0.11\n"
        "pc-02,02:00:00:00:00:02,,\n");
    CAPTURE(describe(report));
    REQUIRE(report.ok());
    const auto pc1 = nodes.find_by_name("pc-01");
    REQUIRE(pc1);
    CHECK(pc1->hostname == "desk1");
    CHECK(pc1->fixed_ip == "10.0.0.11");
    const auto pc2 = nodes.find_by_name("pc-02");
    CHECK_FALSE(pc2->hostname.has_value());
    CHECK(pc2->effective_hostname == "pc-02");
    CHECK_FALSE(pc2->fixed_ip.has_value());

    const auto old = nodes.import_csv("name,mac\npc-03,02:00:00:00:00:03\n");
    CAPTURE(describe(old));
    CHECK(old.ok());
}

TEST_CASE("CSV import reports bad and duplicate host names and addresses by line") {
    auto catalog = test::fresh_catalog();
    auto nodes = catalog.session().nodes();
    nodes.add({.name = "old", .mac = "02:00:00:00:00:99", .fixed_ip = "10.0.0.99", .hostname = "taken"});
    const auto report = nodes.import_csv(
        "name,mac,hostname,ip\n"
        "pc-01,02:00:00:00:00:01,bad_host,10.0.0.11\n"  // 2: bad host name
        "pc-02,02:00:00:00:00:02,desk,10.0.0.300\n"     // 3: bad address
        "pc-03,02:00:00:00:00:03,desk,10.0.0.13\n"      // 4: host name of line 3
        "pc-04,02:00:00:00:00:04,,10.0.0.13\n"          // 5: address of line 4
        "pc-05,02:00:00:00:00:05,pc-06,\n"              // 6: fine alone...
        "pc-06,02:00:00:00:00:06,,\n"                   // 7: ...but line 6 took its name as host name
        "pc-07,02:00:00:00:00:07,,10.0.0.99\n"          // 8: stored node's address
        "pc-08,02:00:00:00:00:08,taken,\n"              // 9: stored node's host name
        "pc-09,02:00:00:00:00:09,ok9,127.0.0.1\n");     // 10: loopback
    CAPTURE(describe(report));
    CHECK(has_problem(report, 2, "hostname"));
    CHECK(has_problem(report, 3, "ip"));
    CHECK(has_problem(report, 4, "hostname"));
    CHECK(has_problem(report, 5, "ip"));
    CHECK_FALSE(has_problem(report, 6, "hostname"));
    CHECK(has_problem(report, 7, "hostname"));
    CHECK(has_problem(report, 8, "ip"));
    CHECK(has_problem(report, 9, "hostname"));
    CHECK(has_problem(report, 10, "ip"));
    CHECK(report.imported == 0);
    CHECK(nodes.list({}).total == 1);
}
