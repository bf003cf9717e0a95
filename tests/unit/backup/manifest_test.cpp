// The backup manifest: sha256sum(1)'s format, and only plain relative paths inside the backup.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "backup/manifest.hpp"

using namespace bootherd::backup;

namespace {
const std::string digest(64, 'a');
}

TEST_CASE("manifest: what format_manifest writes parses back") {
    const std::vector<ManifestEntry> entries{{digest, "catalog.db"},
                                             {std::string(64, '0'), "images/base/v1.vhdx"}};
    const auto text = format_manifest(entries);
    CHECK(text == digest + "  catalog.db\n" + std::string(64, '0') + "  images/base/v1.vhdx\n");
    const auto parsed = parse_manifest(text);
    REQUIRE(parsed.size() == 2);
    CHECK(parsed[1].path == "images/base/v1.vhdx");
    CHECK(parse_manifest("").empty());
}

TEST_CASE("manifest: paths that could leave the backup, bad digests and shapes are refused") {
    for (const char* path : {"../x", "a/../../x", "/etc/passwd", "a//b", "./a", "a/.", "", "a\\b"})
        CHECK_THROWS_AS(parse_manifest(digest + "  " + path + "\n"), std::invalid_argument);
    CHECK_THROWS_AS(parse_manifest(std::string(64, 'A') + "  a\n"), std::invalid_argument);  // upper case
    CHECK_THROWS_AS(parse_manifest(std::string(63, 'a') + "  a\n"), std::invalid_argument);
    CHECK_THROWS_AS(parse_manifest(digest + " a\n"), std::invalid_argument);
    CHECK_THROWS_AS(parse_manifest(digest + "  a"), std::invalid_argument);  // no line end
    CHECK(is_plain_relative_path("nodes/pc-1-1700000000000-42.vhdx"));
    CHECK_FALSE(is_plain_relative_path(std::string(5000, 'a')));
}
