#include "imagestore/image_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

#include "imagestore/image_error.hpp"

namespace bootherd::imagestore {

ImageFile::ImageFile(std::string path, Access access) : path_(std::move(path)) {
    int flags = O_CLOEXEC;
    switch (access) {
        case Access::read_only:
            flags |= O_RDONLY;
            break;
        case Access::read_write:
            flags |= O_RDWR;
            break;
        case Access::create_new:
            flags |= O_RDWR | O_CREAT | O_EXCL;
            break;
    }
    fd_ = ::open(path_.c_str(), flags, 0644);
    if (fd_ < 0) fail(access == Access::create_new ? "cannot create" : "cannot open");
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail("cannot stat");
    if (!S_ISREG(st.st_mode)) {
        ::close(fd_);
        fd_ = -1;
        throw ImageError(path_, "not a regular file");
    }
}

ImageFile::~ImageFile() {
    if (fd_ >= 0) ::close(fd_);
}

void ImageFile::fail(const std::string& what) const {
    const int error = errno;
    throw ImageError(path_, what + ": " + std::strerror(error),
                     std::error_code(error, std::system_category()));
}

std::uint64_t ImageFile::size() const {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail("cannot stat");
    return static_cast<std::uint64_t>(st.st_size);
}

void ImageFile::read_exact(std::uint64_t offset, std::span<std::byte> out) const {
    std::size_t done = 0;
    while (done < out.size()) {
        ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("read failed");
        }
        if (n == 0) {
            std::ostringstream msg;
            msg << "truncated: " << out.size() << " bytes at offset " << offset
                << " lie past the end of the file";
            throw ImageError(path_, msg.str());
        }
        done += static_cast<std::size_t>(n);
    }
}

bool ImageFile::try_read_cached(std::uint64_t offset, std::span<std::byte> out) const noexcept {
    while (!out.empty()) {
        iovec iov{out.data(), out.size()};
        ssize_t n = ::preadv2(fd_, &iov, 1, static_cast<off_t>(offset), RWF_NOWAIT);
        if (n <= 0) return false;
        out = out.subspan(static_cast<std::size_t>(n));
        offset += static_cast<std::uint64_t>(n);
    }
    return true;
}

void ImageFile::write_all(std::uint64_t offset, std::span<const std::byte> data) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("write failed");
        }
        done += static_cast<std::size_t>(n);
    }
}

void ImageFile::resize(std::uint64_t new_size) {
    if (::ftruncate(fd_, static_cast<off_t>(new_size)) != 0) fail("cannot resize");
}

void ImageFile::sync() {
    if (::fdatasync(fd_) != 0) fail("flush failed");
}

bool ImageFile::reserve(std::uint64_t offset, std::uint64_t length) {
    if (::fallocate(fd_, 0, static_cast<off_t>(offset), static_cast<off_t>(length)) == 0) return true;
    if (errno == EOPNOTSUPP || errno == ENOSYS) return false;
    fail("cannot reserve space");
}

bool ImageFile::punch_hole(std::uint64_t offset, std::uint64_t length) {
    if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                    static_cast<off_t>(length)) == 0)
        return true;
    if (errno == EOPNOTSUPP || errno == ENOSYS) return false;
    fail("cannot punch a hole");
}

bool ImageFile::try_lock_exclusive() {
    int rc;
    do {
        rc = ::flock(fd_, LOCK_EX | LOCK_NB);
    } while (rc != 0 && errno == EINTR);
    if (rc == 0) return true;
    if (errno == EWOULDBLOCK) return false;
    fail("cannot lock");
}

}  // namespace bootherd::imagestore
