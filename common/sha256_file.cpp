#include "common/sha256_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

#include "common/sha256.hpp"
#include "common/unique_fd.hpp"

namespace bootherd {

std::string sha256_file(const std::filesystem::path& file) {
    const UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) throw std::system_error(errno, std::generic_category(), "open " + file.string());
    Sha256 hash;
    std::vector<char> buffer(1 << 20);
    while (true) {
        const ssize_t got = ::read(fd.get(), buffer.data(), buffer.size());
        if (got == 0) break;
        if (got < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "read " + file.string());
        }
        hash.update(std::span<const char>(buffer.data(), static_cast<std::size_t>(got)));
    }
    return hash.hex_digest();
}

}  // namespace bootherd
