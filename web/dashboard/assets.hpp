// The dashboard's files, compiled into the binary (generated from web/dashboard/files/ at build time).
#pragma once

#include <span>
#include <string_view>

namespace bootherd::web {

struct Asset {
    std::string_view path;          // "/" for index.html, "/ui/<file>" for the rest
    std::string_view content_type;  // Content-Type header value
    std::string_view body;
};

std::span<const Asset> dashboard_assets();

}  // namespace bootherd::web
