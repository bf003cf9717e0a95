#include <doctest/doctest.h>

#include "db/catalog.hpp"
#include "test_catalog.hpp"

using namespace bootherd::db;

TEST_CASE("groups: create, validate, update, list, delete") {
    auto catalog = test::fresh_catalog();
    auto s = catalog.session();
    auto groups = s.groups();
    const auto image = s.images().create("win11");
    const auto lab =
        groups.create({.name = "lab", .image_id = image.id, .persistent = false, .description = "room 1"});
    CHECK(lab.image_id == image.id);
    CHECK(lab.description == "room 1");
    try {
        groups.create({.name = "LAB"});
        FAIL("duplicate group name accepted");
    } catch (const Conflict& e) {
        CHECK(e.field() == "name");
    }
    try {
        groups.create({.name = "office", .image_id = 999});
        FAIL("unknown image accepted");
    } catch (const InvalidArgument& e) {
        CHECK(e.field() == "image");
    }
    const auto office = groups.create({.name = "office"});
    auto changed = lab;
    changed.name = "lab-1";
    changed.persistent = true;
    changed.image_id.reset();
    const auto updated = groups.update(changed);
    CHECK(updated.name == "lab-1");
    CHECK(updated.persistent);
    CHECK_FALSE(updated.image_id.has_value());
    changed.name = "office";
    CHECK_THROWS_AS(groups.update(changed), Conflict);
    const auto all = groups.list();
    REQUIRE(all.size() == 2);
    CHECK(all[0].name == "lab-1");
    CHECK(groups.find_by_name("OFFICE")->id == office.id);
    groups.remove(office.id);
    CHECK_THROWS_AS(groups.remove(office.id), NotFound);
    CHECK_THROWS_AS(groups.get(office.id), NotFound);
}
