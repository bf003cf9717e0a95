#include "backup/file_copy.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "common/unique_fd.hpp"

namespace bootherd::backup {
namespace {

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& file) {
    throw std::system_error(errno, std::generic_category(), what + " " + file.string());
}

void copy_bytes(int in, int out, const std::filesystem::path& to) {
    while (true) {
        const ssize_t copied = ::copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
        if (copied == 0) return;
        if (copied < 0) {
            if (errno == EINTR) continue;
            fail("copy into", to);
        }
    }
}

}  // namespace

CopyMethod copy_file(const std::filesystem::path& from, const std::filesystem::path& to, bool immutable) {
    if (immutable && ::link(from.c_str(), to.c_str()) == 0) return CopyMethod::hard_link;
    UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
    if (in.get() < 0) fail("open", from);
    UniqueFd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (out.get() < 0) fail("create", to);
    try {
        if (::ioctl(out.get(), FICLONE, in.get()) == 0) return CopyMethod::reflink;
        copy_bytes(in.get(), out.get(), to);
        if (::fsync(out.get()) != 0) fail("sync", to);
    } catch (...) {
        ::unlink(to.c_str());
        throw;
    }
    return CopyMethod::copy;
}

}  // namespace bootherd::backup
