// The dashboard compiled into the binary: every file present with its content type, and nothing it references
// lies outside the server (index.html links only /ui/ files that exist; modules import only sibling modules).
#include <doctest/doctest.h>

#include <algorithm>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "web/dashboard/assets.hpp"

namespace {

using bootherd::web::Asset;
using bootherd::web::dashboard_assets;

const Asset* find_asset(std::string_view path) {
    const auto assets = dashboard_assets();
    const auto it =
        std::find_if(assets.begin(), assets.end(), [&](const Asset& a) { return a.path == path; });
    return it == assets.end() ? nullptr : &*it;
}

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::string expected_type(std::string_view path) {
    if (path == "/" || ends_with(path, ".html")) return "text/html; charset=utf-8";
    if (ends_with(path, ".js")) return "text/javascript; charset=utf-8";
    if (ends_with(path, ".css")) return "text/css; charset=utf-8";
    if (ends_with(path, ".svg")) return "image/svg+xml";
    return "unknown";
}

// Every capture of `pattern`'s first group in `text`.
std::vector<std::string> captures(std::string_view text, const std::regex& pattern) {
    std::vector<std::string> found;
    const std::string subject(text);
    for (std::sregex_iterator it(subject.begin(), subject.end(), pattern), end; it != end; ++it)
        found.push_back((*it)[1].str());
    return found;
}

std::size_t occurrences(std::string_view text, std::string_view needle) {
    std::size_t count = 0;
    for (auto at = text.find(needle); at != std::string_view::npos;
         at = text.find(needle, at + needle.size()))
        ++count;
    return count;
}

}  // namespace

TEST_CASE("every dashboard file is present once with its content type") {
    const auto assets = dashboard_assets();
    std::set<std::string_view> paths;
    for (const Asset& asset : assets) {
        CAPTURE(asset.path);
        CHECK(paths.insert(asset.path).second);
        CHECK((asset.path == "/" || asset.path.starts_with("/ui/")));
        CHECK(asset.content_type == expected_type(asset.path));
        CHECK_FALSE(asset.body.empty());
    }
    for (const char* path :
         {"/", "/ui/app.js", "/ui/api.js", "/ui/style.css", "/ui/favicon.svg", "/ui/machines.js",
          "/ui/csv_import.js", "/ui/images.js", "/ui/machine.js", "/ui/overview.js"}) {
        CAPTURE(path);
        REQUIRE(find_asset(path) != nullptr);
    }
    CHECK(find_asset("/")->body.starts_with("<!doctype html>"));
    CHECK(find_asset("/ui/favicon.svg")->body.starts_with("<svg"));
}

TEST_CASE("index.html references only /ui/ files that exist") {
    const std::string_view html = find_asset("/")->body;
    const auto references = captures(html, std::regex(R"re(\s(?:src|href|action)\s*=\s*"([^"]*)")re"));
    REQUIRE(references.size() >= 3);  // the stylesheet, the icon, the script (the nav links are #fragments)
    bool has_script = false;
    for (const std::string& reference : references) {
        CAPTURE(reference);
        if (reference.starts_with("#")) continue;
        REQUIRE(reference.starts_with("/ui/"));
        CHECK(find_asset(reference) != nullptr);
        has_script = has_script || reference == "/ui/app.js";
    }
    CHECK(has_script);
    // No unquoted or single-quoted attribute slips past the check above.
    CHECK(captures(html, std::regex(R"re(\s(?:src|href)\s*=\s*([^"\s>][^\s>]*))re")).empty());
}

TEST_CASE("modules import only sibling modules that exist") {
    // Static import/export statements: `import './x.js'`, `import {a} from './x.js'`, `export * from
    // './x.js'`.
    const std::regex import_pattern(
        R"re((?:^|\n)\s*(?:import|export)\b(?:[^;'"`]*?\bfrom)?\s*['"]([^'"]+)['"])re");
    std::size_t imports = 0;
    for (const Asset& asset : dashboard_assets()) {
        if (!ends_with(asset.path, ".js")) continue;
        for (const std::string& target : captures(asset.body, import_pattern)) {
            CAPTURE(asset.path);
            CAPTURE(target);
            REQUIRE(target.starts_with("./"));
            CHECK(find_asset("/ui/" + target.substr(2)) != nullptr);
            ++imports;
        }
        CHECK(occurrences(asset.body, "import(") == 0);  // no dynamic import escapes the check above
    }
    CHECK(imports >= 5);
}

TEST_CASE("no file points outside the server") {
    // The only absolute URL allowed is the SVG namespace name, an identifier that is never fetched.
    const std::string_view svg_namespace = "http://www.w3.org/2000/svg";
    for (const Asset& asset : dashboard_assets()) {
        CAPTURE(asset.path);
        CHECK(occurrences(asset.body, "://") == occurrences(asset.body, svg_namespace));
        if (ends_with(asset.path, ".css")) {
            CHECK(occurrences(asset.body, "url(") == 0);
            CHECK(occurrences(asset.body, "@import") == 0);
        }
    }
}
