#pragma once
// A backup's manifest: SHA256SUMS in the format of sha256sum(1) ("<64 hex>  <relative path>" per line), so
// `sha256sum -c SHA256SUMS` inside the backup checks it without bootherd. Parsing it is the one place a
// restore reads names from the backup: each must be a plain relative path inside it.
#include <string>
#include <string_view>
#include <vector>

namespace bootherd::backup {

struct ManifestEntry {
    std::string sha256{};  // 64 lower-case hex digits
    std::string path{};    // relative, no "..", no empty or "." parts
};

std::string format_manifest(const std::vector<ManifestEntry>& entries);
// std::invalid_argument naming the line for anything else (at most 1,000,000 entries).
std::vector<ManifestEntry> parse_manifest(std::string_view text);
// True for a relative path of plain names: no "..", ".", empty part, leading '/', NUL or newline.
bool is_plain_relative_path(std::string_view path) noexcept;

}  // namespace bootherd::backup
