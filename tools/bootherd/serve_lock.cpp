#include "tools/bootherd/serve_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace bootherd::cli {
namespace {
// The pid the holder wrote, or "" when it cannot be read (it may be writing it right now).
std::string holder_pid(int fd) {
    std::array<char, 24> text{};
    const ssize_t got = ::pread(fd, text.data(), text.size() - 1, 0);
    if (got <= 0) return {};
    std::string pid(text.data(), static_cast<std::size_t>(got));
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' '))
        pid.pop_back();
    return pid;
}
}  // namespace

ServeLock::ServeLock(const std::filesystem::path& data_dir) {
    std::filesystem::create_directories(data_dir);
    const auto path = data_dir / "serve.lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        const std::string pid = holder_pid(fd_);
        ::close(fd_);
        if (error != EWOULDBLOCK)
            throw std::runtime_error("cannot lock " + path.string() + ": " + std::strerror(error));
        throw std::runtime_error("another bootherd serve" +
                                 (pid.empty() ? std::string() : " (pid " + pid + ")") +
                                 " is already serving the data directory " +
                                 std::filesystem::absolute(data_dir).string() + "; stop it first");
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) != 0 ||
        ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
        const int error = errno;
        ::close(fd_);  // no destructor runs for a constructor that throws
        throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(error));
    }
}

ServeLock::~ServeLock() {
    ::close(fd_);  // drops the lock; the file stays, a stale pid in it means nothing without the lock
}

}  // namespace bootherd::cli
