#pragma once
// The first admin password lives in <data>/initial-admin-password (0600, one line), never in a log, until
// `bootherd admin set-password` replaces it.
#include <filesystem>
#include <string_view>

namespace bootherd::cli {

std::filesystem::path initial_password_file(const std::filesystem::path& data_dir);
// Writes the password (replacing an older file). Throws std::system_error.
void write_initial_password(const std::filesystem::path& data_dir, std::string_view password);
// Deletes the file if there is one; returns whether there was.
bool remove_initial_password(const std::filesystem::path& data_dir);

}  // namespace bootherd::cli
