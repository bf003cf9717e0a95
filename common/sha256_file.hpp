#pragma once
#include <filesystem>
#include <string>

namespace bootherd {

// The file's SHA-256 as 64 lower-case hex digits (OpenSSL, read in 1 MiB pieces). std::system_error on I/O.
std::string sha256_file(const std::filesystem::path& file);

}  // namespace bootherd
