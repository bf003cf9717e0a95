#include "tools/bootherd/initial_password.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace bootherd::cli {
namespace {

[[noreturn]] void fail(const std::filesystem::path& file, const char* what) {
    throw std::system_error(errno, std::generic_category(), std::string(what) + " " + file.string());
}

}  // namespace

std::filesystem::path initial_password_file(const std::filesystem::path& data_dir) {
    return data_dir / "initial-admin-password";
}

void write_initial_password(const std::filesystem::path& data_dir, std::string_view password) {
    const auto file = initial_password_file(data_dir);
    // O_NOFOLLOW: a symbolic link planted there must not redirect the secret; fchmod: an older file may
    // have had a wider mode.
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) fail(file, "create");
    const std::string line = std::string(password) + "\n";
    const bool written = ::fchmod(fd, 0600) == 0 &&
                         ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                         ::fsync(fd) == 0;
    const int error = errno;
    ::close(fd);
    if (!written) {
        errno = error;
        fail(file, "write");
    }
}

bool remove_initial_password(const std::filesystem::path& data_dir) {
    return std::filesystem::remove(initial_password_file(data_dir));
}

}  // namespace bootherd::cli
