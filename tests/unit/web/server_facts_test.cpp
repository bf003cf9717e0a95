// The host facts GET /api/v1/server reads: network interfaces and file system space.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "web/api/server_facts.hpp"

using namespace bootherd::web;

TEST_CASE("server facts: the loopback interface, up, with its addresses and prefixes") {
    const auto interfaces = host_interfaces();
    REQUIRE_FALSE(interfaces.empty());
    CHECK(interfaces.size() <= kMaxHostInterfaces);
    CHECK(std::is_sorted(interfaces.begin(), interfaces.end(),
                         [](const auto& a, const auto& b) { return a.name < b.name; }));
    const auto lo =
        std::find_if(interfaces.begin(), interfaces.end(), [](const auto& i) { return i.name == "lo"; });
    REQUIRE(lo != interfaces.end());
    CHECK(lo->up);
    CHECK(std::find(lo->addresses.begin(), lo->addresses.end(), "127.0.0.1/8") != lo->addresses.end());
    for (const auto& host : interfaces) {
        CHECK(host.addresses.size() <= kMaxInterfaceAddresses);
        CHECK((host.mac.empty() || host.mac.size() == 17));
    }
}

TEST_CASE("server facts: file system space of a directory; a missing one throws") {
    const auto space = file_system_space(std::filesystem::temp_directory_path());
    CHECK(space.total > 0);
    CHECK(space.free <= space.total);
    CHECK_THROWS_AS(file_system_space("/nonexistent/bootherd"), std::system_error);
}
