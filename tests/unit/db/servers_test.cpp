#include <doctest/doctest.h>

#include "db/catalog.hpp"
#include "db/error.hpp"
#include "test_catalog.hpp"

using namespace bootherd::db;

namespace {

constexpr std::string_view kSha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

std::int64_t sealed_version(Catalog::Session& s, const Image& image, std::int64_t number) {
    auto draft = s.versions().add_draft({.image_id = image.id,
                                         .file_path = "images/" + image.name + "/v" + std::to_string(number),
                                         .size_bytes = 1});
    return s.versions().seal(draft.id, 1, kSha256).id;
}

}  // namespace

TEST_CASE("servers: a restart under the same name keeps the id and resets the load") {
    auto catalog = test::fresh_catalog();
    auto s = catalog.session();
    const auto first =
        s.servers().register_server({.name = "srv-a", .iscsi_portal = "10.0.0.1:3260", .capacity = 50}, 1000);
    s.servers().heartbeat(first.id, 12, 3, 2000);
    auto beat = s.servers().find(first.id);
    REQUIRE(beat);
    CHECK(beat->heartbeat_at == 2000);
    CHECK(beat->sessions == 12);
    CHECK(beat->booting == 3);

    const auto again = s.servers().register_server({.name = "srv-a",
                                                    .iscsi_portal = "10.0.0.9:3260",
                                                    .web_url = "https://10.0.0.9:8443",
                                                    .capacity = 80},
                                                   5000);
    CHECK(again.id == first.id);
    CHECK(again.iscsi_portal == "10.0.0.9:3260");
    CHECK(again.web_url == "https://10.0.0.9:8443");
    CHECK(again.capacity == 80);
    CHECK(again.sessions == 0);
    CHECK(again.started_at == 5000);
    CHECK(s.servers().list().size() == 1);
    CHECK_THROWS_AS(s.servers().heartbeat(first.id + 10, 0, 0, 1), NotFound);
}

TEST_CASE("servers: registration refuses what placement could not use") {
    auto catalog = test::fresh_catalog();
    auto s = catalog.session();
    CHECK_THROWS_AS(s.servers().register_server({.name = "", .iscsi_portal = "10.0.0.1:3260"}, 1),
                    InvalidArgument);
    CHECK_THROWS_AS(s.servers().register_server({.name = "a", .iscsi_portal = ""}, 1), InvalidArgument);
    CHECK_THROWS_AS(s.servers().register_server({.name = "a", .iscsi_portal = "x:1", .capacity = 0}, 1),
                    InvalidArgument);
    CHECK(s.servers().list().empty());
}

TEST_CASE("servers: verified copies of sealed versions, gone with the server") {
    auto catalog = test::fresh_catalog();
    auto s = catalog.session();
    const auto image = s.images().create("win");
    const auto v1 = sealed_version(s, image, 1);
    const auto draft =
        s.versions().add_draft({.image_id = image.id, .file_path = "images/win/v2", .size_bytes = 1});
    const auto a = s.servers().register_server({.name = "a", .iscsi_portal = "10.0.0.1:3260"}, 1);
    const auto b = s.servers().register_server({.name = "b", .iscsi_portal = "10.0.0.2:3260"}, 1);

    s.servers().record_verified_copy(a.id, v1, 10);
    s.servers().record_verified_copy(a.id, v1, 20);  // again: still one copy
    CHECK(s.servers().holds(a.id, v1));
    CHECK_FALSE(s.servers().holds(b.id, v1));
    CHECK(s.servers().held_versions(a.id) == std::vector<std::int64_t>{v1});
    CHECK_THROWS_AS(s.servers().record_verified_copy(b.id, draft.id, 10), Conflict);

    s.servers().record_verified_copy(b.id, v1, 30);
    auto holders = s.servers().holders(v1);
    REQUIRE(holders.size() == 2);
    CHECK(holders[0].name == "a");
    s.servers().forget_copy(a.id, v1);
    CHECK(s.servers().holders(v1).size() == 1);

    const auto node = s.nodes().add({.name = "pc-01", .mac = "02:00:00:00:00:01"});
    s.nodes().set_home_server(node.id, b.id, 77);
    CHECK(s.nodes().get(node.id).home_placed_at == 77);
    CHECK(s.nodes().get(node.id).home_server_id == b.id);
    s.database().exec("DELETE FROM servers WHERE name = 'b'");
    CHECK_FALSE(s.nodes().get(node.id).home_server_id);
    CHECK(s.servers().holders(v1).empty());
}

TEST_CASE("servers: the copies each holds, by image and number, and the machines each homes") {
    auto catalog = test::fresh_catalog();
    auto s = catalog.session();
    const auto win = s.images().create("win");
    const auto lin = s.images().create("lin");
    const auto win1 = sealed_version(s, win, 1);
    const auto win2 = sealed_version(s, win, 2);
    const auto lin1 = sealed_version(s, lin, 1);
    const auto a = s.servers().register_server({.name = "a", .iscsi_portal = "10.0.0.1:3260"}, 1);
    const auto b = s.servers().register_server({.name = "b", .iscsi_portal = "10.0.0.2:3260"}, 1);
    s.servers().register_server({.name = "c", .iscsi_portal = "10.0.0.3:3260"}, 1);
    s.servers().record_verified_copy(b.id, win2, 5);
    s.servers().record_verified_copy(b.id, win1, 5);
    s.servers().record_verified_copy(b.id, lin1, 5);
    s.servers().record_verified_copy(a.id, win1, 5);

    const auto copies = s.servers().held_copies();
    REQUIRE(copies.size() == 4);
    CHECK((copies[0].server_id == a.id && copies[0].image == "win" && copies[0].version == 1));
    CHECK((copies[1].server_id == b.id && copies[1].image == "lin" && copies[1].version == 1));
    CHECK((copies[2].server_id == b.id && copies[2].image == "win" && copies[2].version == 1));
    CHECK((copies[3].server_id == b.id && copies[3].image == "win" && copies[3].version == 2));

    CHECK(s.servers().homed_counts().empty());
    for (int i = 1; i <= 3; ++i) {
        const auto node = s.nodes().add(
            {.name = "pc-0" + std::to_string(i), .mac = "02:00:00:00:00:0" + std::to_string(i)});
        s.nodes().set_home_server(node.id, i == 1 ? a.id : b.id, 7);
    }
    s.nodes().add({.name = "pc-09", .mac = "02:00:00:00:00:09"});  // homed nowhere
    CHECK(s.servers().homed_counts() == std::map<std::int64_t, std::int64_t>{{a.id, 1}, {b.id, 2}});
}

TEST_CASE("versions: the SHA-256 is recorded at seal, once") {
    auto catalog = test::fresh_catalog();
    auto s = catalog.session();
    const auto image = s.images().create("win");
    auto draft =
        s.versions().add_draft({.image_id = image.id, .file_path = "images/win/v1", .size_bytes = 1});
    CHECK_FALSE(draft.sha256);
    CHECK_THROWS_AS(s.versions().seal(draft.id, 1, "ABC"), InvalidArgument);
    CHECK_THROWS_AS(s.versions().seal(draft.id, 1, std::string(64, 'A')), InvalidArgument);
    CHECK(s.versions().get(draft.id).state == VersionState::draft);
    const auto sealed = s.versions().seal(draft.id, 1, kSha256);
    CHECK(sealed.sha256 == std::string(kSha256));
    CHECK(s.versions().sealed_without_sha256().empty());
    s.versions().set_sha256(sealed.id, kSha256);  // the same value: nothing to do
    CHECK_THROWS_AS(s.versions().set_sha256(sealed.id, std::string(64, '0')), Conflict);
    // The trigger holds even against a direct write.
    CHECK_THROWS(s.database().exec("UPDATE versions SET sha256 = '" + std::string(64, '1') + "'"));

    // A version sealed before hashes were recorded gets one, once.
    auto old = s.versions().add_draft({.image_id = image.id, .file_path = "images/win/v2", .size_bytes = 1});
    s.database().exec("UPDATE versions SET state = 'sealed', sealed_at = 1 WHERE id = " +
                      std::to_string(old.id));
    REQUIRE(s.versions().sealed_without_sha256().size() == 1);
    s.versions().set_sha256(old.id, std::string(64, '2'));
    CHECK(s.versions().get(old.id).sha256 == std::string(64, '2'));
    CHECK_THROWS_AS(s.versions().set_sha256(draft.id + 100, kSha256), NotFound);
}
