#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <sstream>

#include "db/catalog.hpp"
#include "test_catalog.hpp"

using namespace bootherd::db;

namespace {

struct Fixture {
    Catalog catalog = test::fresh_catalog();
    Fixture() {
        auto s = catalog.session();
        const auto win = s.images().create("win11");
        s.groups().create({.name = "lab", .image_id = win.id});
    }
    std::int64_t node_count() { return catalog.session().nodes().list({}).total; }
};

bool has_problem(const ImportReport& report, std::size_t line, const std::string& field) {
    for (const auto& p : report.problems) {
        if (p.line == line && p.field == field) return true;
    }
    return false;
}

std::string describe(const ImportReport& report) {
    std::ostringstream os;
    for (const auto& p : report.problems)
        os << p.line << ' ' << p.field << ": " << p.message << '\n';
    return os.str();
}

}  // namespace

TEST_CASE("a good file enrols every row with its image, group and persistence") {
    Fixture f;
    const auto report = f.catalog.session().nodes().import_csv(
        "name,mac,image,group,persistent\r\n"
        "pc-01,52:54:00:00:00:01,win11,lab,yes\r\n"
        "\r\n"
        "pc-02,52-54-00-00-00-02,,lab,\r\n"
        "pc-03,525400000003,WIN11,,false\r\n");
    CAPTURE(describe(report));
    REQUIRE(report.ok());
    CHECK(report.rows == 3);
    CHECK(report.imported == 3);
    auto s = f.catalog.session();
    const auto pc1 = s.nodes().find_by_name("pc-01");
    REQUIRE(pc1);
    CHECK(pc1->persistent == true);
    CHECK(pc1->image_id == s.images().find_by_name("win11")->id);
    CHECK(pc1->iqn == "iqn.2026-11.org.bootherd:node.pc-01");
    CHECK(pc1->chap_secret.size() == 16);
    const auto pc2 = s.nodes().find_by_mac("52:54:00:00:00:02");
    REQUIRE(pc2);
    CHECK_FALSE(pc2->image_id.has_value());
    CHECK(pc2->effective_image_id == pc1->image_id);
    CHECK_FALSE(pc2->persistent.has_value());
    CHECK(s.nodes().find_by_name("pc-03")->persistent == false);
}

TEST_CASE("quoted fields, reordered and optional columns") {
    Fixture f;
    const auto report = f.catalog.session().nodes().import_csv(
        "\"MAC\",\"Name\",\"group\"\n"
        "\"52:54:00:00:00:01\",\"pc-01\",\"lab\"\n"
        "\"52:54:00:00:00:02\",pc-02,\"\"\n");
    CAPTURE(describe(report));
    REQUIRE(report.ok());
    CHECK(report.imported == 2);
    auto s = f.catalog.session();
    CHECK(s.nodes().find_by_name("pc-01")->group_id.has_value());
    CHECK_FALSE(s.nodes().find_by_name("pc-02")->group_id.has_value());
}

TEST_CASE("three bad rows are all reported by line and field and nothing is written") {
    Fixture f;
    const auto report = f.catalog.session().nodes().import_csv(
        "name,mac,image,group,persistent\n"
        "pc-01,52:54:00:00:00:01,win11,lab,1\n"
        "bad name,52:54:00:00:00:02,,,\n"     // line 3: name
        "pc-03,52:54:00:00:00:0Z,nosuch,,\n"  // line 4: mac and image
        "pc-04,52:54:00:00:00:04,,,maybe\n"   // line 5: persistent
        "pc-05,52:54:00:00:00:05,,lab,0\n");
    CAPTURE(describe(report));
    CHECK_FALSE(report.ok());
    CHECK(report.rows == 5);
    CHECK(report.imported == 0);
    CHECK(report.problems.size() == 4);
    CHECK(has_problem(report, 3, "name"));
    CHECK(has_problem(report, 4, "mac"));
    CHECK(has_problem(report, 4, "image"));
    CHECK(has_problem(report, 5, "persistent"));
    CHECK(f.node_count() == 0);
}

TEST_CASE("duplicates inside the file and against stored nodes are reported") {
    Fixture f;
    f.catalog.session().nodes().add({.name = "existing", .mac = "52:54:00:00:00:99"});
    const auto report = f.catalog.session().nodes().import_csv(
        "name,mac\n"
        "pc-01,52:54:00:00:00:01\n"
        "PC-01,52:54:00:00:00:02\n"     // line 3: same name as line 2 (names are case-insensitive)
        "pc-03,5254.0000.0001\n"        // line 4: same MAC as line 2
        "Existing,52:54:00:00:00:05\n"  // line 5: stored name
        "pc-06,52:54:00:00:00:99\n"     // line 6: stored MAC
        "pc_07,52:54:00:00:00:07\n"
        "pc-07,52:54:00:00:00:08\n");  // line 8: same IQN as line 7
    CAPTURE(describe(report));
    CHECK(report.problems.size() == 5);
    CHECK(has_problem(report, 3, "name"));
    CHECK(has_problem(report, 4, "mac"));
    CHECK(has_problem(report, 5, "name"));
    CHECK(has_problem(report, 6, "mac"));
    CHECK(has_problem(report, 8, "name"));
    CHECK(report.problems[0].message.find("line 2") != std::string::npos);
    CHECK(f.node_count() == 1);
}

TEST_CASE("syntax and shape errors are reported by line") {
    Fixture f;
    auto s = f.catalog.session();
    auto report = s.nodes().import_csv(
        "name,mac\n"
        "pc-01,52:54:00:00:00:01,extra\n"
        "pc-02,\"52:54:00:00:00:02\"x\n"
        "pc-03\n");
    CAPTURE(describe(report));
    CHECK(report.rows == 3);
    CHECK(has_problem(report, 2, "csv"));
    CHECK(has_problem(report, 3, "csv"));
    CHECK(has_problem(report, 4, "csv"));

    report = s.nodes().import_csv("");
    CHECK(has_problem(report, 1, "csv"));
    report = s.nodes().import_csv("name,address\npc,52:54:00:00:00:01\n");
    CHECK(has_problem(report, 1, "csv"));
    CHECK(report.problems.size() == 2);  // unknown column, and no mac column
    report = s.nodes().import_csv("name,mac,name\n");
    CHECK(has_problem(report, 1, "csv"));
    CHECK(f.node_count() == 0);
}

TEST_CASE("validate_only returns the report without writing") {
    Fixture f;
    const std::string good = "name,mac\npc-01,52:54:00:00:00:01\npc-02,52:54:00:00:00:02\n";
    auto report = f.catalog.session().nodes().import_csv(good, true);
    CHECK(report.ok());
    CHECK(report.rows == 2);
    CHECK(report.imported == 0);
    CHECK(f.node_count() == 0);
    report = f.catalog.session().nodes().import_csv("name,mac\nbad!,x\n", true);
    CHECK(has_problem(report, 2, "name"));
    CHECK(has_problem(report, 2, "mac"));
    report = f.catalog.session().nodes().import_csv(good);
    CHECK(report.imported == 2);
    CHECK(f.node_count() == 2);
}

TEST_CASE("importing 1000 rows (timing printed)") {
    Fixture f;
    std::string csv = "name,mac,image,group,persistent\n";
    for (int i = 0; i < 1000; ++i) {
        char row[96];
        std::snprintf(row, sizeof row, "node-%04d,02:00:00:00:%02x:%02x,%s,lab,%s\n", i, (i >> 8) & 0xff,
                      i & 0xff, i % 3 == 0 ? "win11" : "", i % 2 == 0 ? "true" : "");
        csv += row;
    }
    const auto start = std::chrono::steady_clock::now();
    const auto report = f.catalog.session().nodes().import_csv(csv);
    const auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
    MESSAGE("imported 1000 nodes in " << elapsed.count() << " ms");
    CAPTURE(describe(report));
    REQUIRE(report.ok());
    CHECK(report.imported == 1000);
    CHECK(f.node_count() == 1000);
}
