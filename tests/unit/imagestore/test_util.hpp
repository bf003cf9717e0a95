#pragma once
// Helpers shared by the image store tests: scratch directories, byte patterns, running Debian tools.
#include <sys/wait.h>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "block/block_device.hpp"

namespace bootherd::imagestore::test {

class TempDir {
  public:
    // in_memory: on /dev/shm when present, where fdatasync costs nothing (for tests of logic, not
    // durability).
    explicit TempDir(bool in_memory = false) {
        std::filesystem::path base = std::filesystem::temp_directory_path();
        if (in_memory && std::filesystem::is_directory("/dev/shm")) base = "/dev/shm";
        std::string tmpl = (base / "imagestore-test-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string file(const std::string& name) const { return (path_ / name).string(); }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

inline std::vector<std::byte> random_bytes(std::mt19937_64& rng, std::size_t n) {
    std::vector<std::byte> out(n);
    for (std::size_t i = 0; i < n; i += 8) {
        std::uint64_t v = rng();
        for (std::size_t k = 0; k < 8 && i + k < n; ++k)
            out[i + k] = static_cast<std::byte>(v >> (8 * k));
    }
    return out;
}

inline std::vector<std::byte> read_all(block::BlockDevice& dev) {
    std::vector<std::byte> out(dev.geometry().size_bytes);
    if (dev.read(0, out)) throw std::runtime_error("read failed");
    return out;
}

inline std::vector<std::byte> file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> out(raw.size());
    std::memcpy(out.data(), raw.data(), raw.size());
    return out;
}

inline void write_file_bytes(const std::string& path, std::uint64_t offset, const void* data, std::size_t n) {
    std::fstream f(path, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
}

// Runs a shell command, returning its exit status and standard output.
struct CommandResult {
    int status = -1;
    std::string output;
};
inline CommandResult run(const std::string& command) {
    CommandResult r;
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    if (!p) return r;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
        r.output.append(buf, n);
    int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

inline bool have_tool(const std::string& check) {
    return run(check + " >/dev/null").status == 0;
}

}  // namespace bootherd::imagestore::test
