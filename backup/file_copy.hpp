#pragma once
// Copying image files into and out of a backup as cheaply as the file system allows.
#include <filesystem>

namespace bootherd::backup {

enum class CopyMethod { hard_link, reflink, copy };

// Makes `to` (new, mode 0600) with the content of `from`. An immutable file (a sealed version) may become a
// hard link when both sit on one file system; otherwise a reflink (FICLONE) where the file system shares
// blocks, else a byte copy (copy_file_range). Throws std::system_error naming the file.
CopyMethod copy_file(const std::filesystem::path& from, const std::filesystem::path& to, bool immutable);

}  // namespace bootherd::backup
