#include "imagestore/store/private_modes.hpp"

#include <algorithm>

namespace bootherd::imagestore::store {
namespace fs = std::filesystem;
namespace {

constexpr fs::perms kShared = fs::perms::group_all | fs::perms::others_all;

bool fix(const fs::path& path, const fs::file_status& status) {
    if ((status.permissions() & kShared) == fs::perms::none) return false;
    fs::permissions(path, kShared, fs::perm_options::remove);
    return true;
}

}  // namespace

std::vector<std::string> make_private(const fs::path& data_dir) {
    std::vector<std::string> fixed;
    if (fix(data_dir, fs::status(data_dir))) fixed.emplace_back(".");
    for (const auto& entry : fs::recursive_directory_iterator(data_dir)) {
        const auto status = entry.symlink_status();
        if (fs::is_symlink(status)) continue;
        if (fix(entry.path(), status)) fixed.push_back(fs::relative(entry.path(), data_dir).generic_string());
    }
    // Shallow paths first (the catalog before the thousands of disks), so a shortened list names them.
    std::stable_sort(fixed.begin(), fixed.end(), [](const std::string& a, const std::string& b) {
        return std::count(a.begin(), a.end(), '/') < std::count(b.begin(), b.end(), '/');
    });
    return fixed;
}

}  // namespace bootherd::imagestore::store
