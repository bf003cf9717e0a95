#pragma once
// A tmpfs of a few MiB mounted on a scratch directory for the length of a test, so that writes really run out
// of space (ENOSPC). Mounting needs root (CAP_SYS_ADMIN): mount() returns null and says why otherwise, and
// the test skips.
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace bootherd::test {

class SmallFilesystem {
  public:
    // Null (with `why`) when it cannot be mounted here.
    static std::unique_ptr<SmallFilesystem> mount(std::uint64_t bytes, std::string& why) {
        if (::geteuid() != 0) {
            why = "mounting a tmpfs needs root";
            return nullptr;
        }
        std::string dir = (std::filesystem::temp_directory_path() / "small-fs-XXXXXX").string();
        if (!::mkdtemp(dir.data())) {
            why = std::string("mkdtemp: ") + std::strerror(errno);
            return nullptr;
        }
        const std::string options = "size=" + std::to_string(bytes);
        if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
            why = std::string("mount -t tmpfs: ") + std::strerror(errno);
            ::rmdir(dir.c_str());
            return nullptr;
        }
        return std::unique_ptr<SmallFilesystem>(new SmallFilesystem(dir));
    }
    ~SmallFilesystem() {
        ::umount2(dir_.c_str(), MNT_DETACH);
        ::rmdir(dir_.c_str());
    }
    SmallFilesystem(const SmallFilesystem&) = delete;
    SmallFilesystem& operator=(const SmallFilesystem&) = delete;

    std::string file(const std::string& name) const { return (dir_ / name).string(); }

    std::uint64_t free_bytes() const {
        struct statvfs st {};
        ::statvfs(dir_.c_str(), &st);
        return std::uint64_t{st.f_bavail} * st.f_frsize;
    }

    // Takes up the free space but `leave` bytes with a file `name` (delete it to give the space back).
    void fill(const std::string& name, std::uint64_t leave = 0) const {
        std::ofstream out(file(name), std::ios::binary);
        const std::vector<char> page(4096, 'x');
        while (free_bytes() >= leave + page.size() && out.write(page.data(), page.size()))
            out.flush();
    }

  private:
    explicit SmallFilesystem(std::filesystem::path dir) : dir_(std::move(dir)) {}
    std::filesystem::path dir_;
};

}  // namespace bootherd::test
