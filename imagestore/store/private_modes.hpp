#pragma once
// The data directory holds secrets (the catalog's CHAP secrets and password hashes) and every machine's disk:
// nothing in it may be readable by group or others. Commands run under umask 077, so new files are private;
// this fixes what an older version left behind.
#include <filesystem>
#include <string>
#include <vector>

namespace bootherd::imagestore::store {

// Removes group and other permissions from `data_dir` and everything under it (symbolic links are neither
// followed nor changed). Returns the paths fixed, relative to `data_dir` ("." for the directory itself).
// Throws std::filesystem::filesystem_error.
std::vector<std::string> make_private(const std::filesystem::path& data_dir);

}  // namespace bootherd::imagestore::store
