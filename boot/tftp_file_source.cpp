#include "boot/tftp_file_source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace bootherd::boot {
namespace {

class FileContent : public TftpContent {
  public:
    FileContent(int fd, std::uint64_t size) : fd_(fd), size_(size) {}
    FileContent(const FileContent&) = delete;
    FileContent& operator=(const FileContent&) = delete;
    ~FileContent() override { ::close(fd_); }

    std::uint64_t size() const override { return size_; }
    std::size_t read(std::uint64_t offset, std::span<std::uint8_t> into) override {
        std::size_t done = 0;
        while (done < into.size()) {
            const ssize_t n =
                ::pread(fd_, into.data() + done, into.size() - done, static_cast<off_t>(offset + done));
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw std::runtime_error(std::strerror(errno));
            if (n == 0) break;
            done += static_cast<std::size_t>(n);
        }
        return done;
    }

  private:
    int fd_;
    std::uint64_t size_;
};

bool is_inside(const std::filesystem::path& root, const std::filesystem::path& candidate) {
    auto r = root.begin();
    auto c = candidate.begin();
    for (; r != root.end(); ++r, ++c) {
        if (c == candidate.end() || *r != *c) return false;
    }
    return true;
}

}  // namespace

std::size_t TftpMemoryContent::read(std::uint64_t offset, std::span<std::uint8_t> into) {
    if (offset >= bytes_.size()) return 0;
    const std::size_t length = std::min<std::uint64_t>(into.size(), bytes_.size() - offset);
    std::copy_n(bytes_.begin() + static_cast<std::ptrdiff_t>(offset), length, into.begin());
    return length;
}

std::optional<std::string> normalize_tftp_path(std::string_view requested) {
    std::string normalized;
    std::size_t at = 0;
    while (at <= requested.size()) {
        std::size_t next = requested.find_first_of("/\\", at);
        if (next == std::string_view::npos) next = requested.size();
        const std::string_view component = requested.substr(at, next - at);
        at = next + 1;
        if (component.empty() || component == ".") continue;
        if (component == "..") return std::nullopt;
        if (component.find('\0') != std::string_view::npos) return std::nullopt;
        if (!normalized.empty()) normalized.push_back('/');
        normalized.append(component);
    }
    if (normalized.empty()) return std::nullopt;
    return normalized;
}

TftpFileSource::TftpFileSource(const std::filesystem::path& root, Symlinks symlinks) : symlinks_(symlinks) {
    std::error_code ec;
    root_ = std::filesystem::canonical(root, ec);
    if (ec || !std::filesystem::is_directory(root_))
        throw std::invalid_argument("TFTP root " + root.string() + " is not a directory");
}

void TftpFileSource::add_generator(std::string path_prefix, TftpGenerator generator) {
    generators_.emplace_back(std::move(path_prefix), std::move(generator));
}

TftpOpenResult TftpFileSource::open(std::string_view requested,
                                    const boost::asio::ip::address& client) const {
    const auto path = normalize_tftp_path(requested);
    if (!path) return {nullptr, TftpErrorCode::access_violation, "path refused"};

    for (const auto& [prefix, generator] : generators_) {
        if (path->starts_with(prefix)) return generator(*path, client);
    }

    std::error_code ec;
    const auto real = std::filesystem::canonical(root_ / *path, ec);
    if (ec) return {nullptr, TftpErrorCode::file_not_found, "file not found"};
    if (symlinks_ == Symlinks::stay_inside_root && !is_inside(root_, real))
        return {nullptr, TftpErrorCode::access_violation, "path leaves the TFTP root"};

    const int fd = ::open(real.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return {nullptr, TftpErrorCode::access_violation, "cannot open file"};
    struct stat info {};
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        ::close(fd);
        return {nullptr, TftpErrorCode::access_violation, "not a regular file"};
    }
    return {std::make_unique<FileContent>(fd, static_cast<std::uint64_t>(info.st_size)), {}, {}};
}

}  // namespace bootherd::boot
