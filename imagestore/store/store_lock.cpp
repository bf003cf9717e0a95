#include "imagestore/store/store_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace bootherd::imagestore::store {

StoreLock::StoreLock(const std::filesystem::path& lock_file, Mode mode) {
    fd_ = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "open " + lock_file.string());
    const int operation = mode == Mode::shared ? LOCK_SH : LOCK_EX | LOCK_NB;
    int rc;
    do {
        rc = ::flock(fd_, operation);
    } while (rc != 0 && errno == EINTR);
    held_ = rc == 0;
    if (rc != 0 && !(mode == Mode::try_exclusive && errno == EWOULDBLOCK)) {
        int error = errno;
        ::close(fd_);
        throw std::system_error(error, std::generic_category(), "lock " + lock_file.string());
    }
}

StoreLock::~StoreLock() {
    ::close(fd_);
}

}  // namespace bootherd::imagestore::store
