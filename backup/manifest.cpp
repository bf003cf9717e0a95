#include "backup/manifest.hpp"

#include <stdexcept>

namespace bootherd::backup {
namespace {

constexpr std::size_t max_entries = 1'000'000;
constexpr std::size_t max_path = 4096;

bool is_hex_digest(std::string_view text) noexcept {
    if (text.size() != 64) return false;
    for (const char c : text)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

}  // namespace

bool is_plain_relative_path(std::string_view path) noexcept {
    if (path.empty() || path.size() > max_path || path.front() == '/') return false;
    std::size_t start = 0;
    while (start <= path.size()) {
        const auto slash = path.find('/', start);
        const auto part =
            path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (part.empty() || part == "." || part == "..") return false;
        for (const char c : part)
            if (c == '\0' || c == '\n' || c == '\r' || c == '\\') return false;
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return true;
}

std::string format_manifest(const std::vector<ManifestEntry>& entries) {
    std::string text;
    for (const auto& entry : entries)
        text += entry.sha256 + "  " + entry.path + "\n";
    return text;
}

std::vector<ManifestEntry> parse_manifest(std::string_view text) {
    std::vector<ManifestEntry> entries;
    std::size_t number = 0;
    while (!text.empty()) {
        ++number;
        const auto end = text.find('\n');
        if (end == std::string_view::npos)
            throw std::invalid_argument("SHA256SUMS line " + std::to_string(number) + " has no line end");
        const std::string_view line = text.substr(0, end);
        text.remove_prefix(end + 1);
        if (entries.size() == max_entries) throw std::invalid_argument("SHA256SUMS lists too many files");
        const auto why = [&](const char* what) {
            return std::invalid_argument("SHA256SUMS line " + std::to_string(number) + ": " + what);
        };
        if (line.size() < 67 || line.substr(64, 2) != "  ") throw why("not \"<sha256>  <path>\"");
        if (!is_hex_digest(line.substr(0, 64))) throw why("the checksum is not 64 lower-case hex digits");
        const auto path = line.substr(66);
        if (!is_plain_relative_path(path)) throw why("the path is not a plain relative path");
        entries.push_back({std::string(line.substr(0, 64)), std::string(path)});
    }
    return entries;
}

}  // namespace bootherd::backup
