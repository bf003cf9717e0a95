#include "replication/version_puller.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <system_error>

#include "common/log.hpp"
#include "common/sha256.hpp"
#include "common/unique_fd.hpp"
#include "db/clock.hpp"

namespace bootherd::replication {
namespace {

namespace fs = std::filesystem;
constexpr std::size_t kHashPiece = 1 << 20;

[[noreturn]] void fail_io(const std::string& what, const fs::path& file) {
    throw std::system_error(errno, std::generic_category(), what + " " + file.string());
}

std::string name_of(const VersionFile& file) {
    return "version " + std::to_string(file.number) + " of image '" + file.image + "'";
}

// The catalog's relative path under the data directory; PullError for one that would leave it.
fs::path local_path(const fs::path& data_dir, const VersionFile& file) {
    const fs::path relative(file.file_path);
    bool escapes = relative.empty() || !relative.is_relative();
    for (const auto& part : relative)
        escapes = escapes || part == "..";
    if (escapes) throw PullError(name_of(file) + ": unusable file path '" + file.file_path + "'");
    return data_dir / relative;
}

void hash_prefix(int fd, std::uint64_t length, Sha256& hash, const fs::path& file) {
    std::vector<char> piece(kHashPiece);
    for (std::uint64_t done = 0; done < length;) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), length - done));
        const ssize_t got = ::pread(fd, piece.data(), want, static_cast<off_t>(done));
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) fail_io("read", file);
        if (got == 0) throw PullError(file.string() + " shrank while it was read");
        hash.update(std::span<const char>(piece.data(), static_cast<std::size_t>(got)));
        done += static_cast<std::uint64_t>(got);
    }
}

std::string sha256_of(const fs::path& file) {
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) fail_io("open", file);
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) fail_io("stat", file);
    Sha256 hash;
    hash_prefix(fd.get(), static_cast<std::uint64_t>(info.st_size), hash, file);
    return hash.hex_digest();
}

void write_all(int fd, std::span<const char> bytes, std::uint64_t offset, const fs::path& file) {
    while (!bytes.empty()) {
        const ssize_t put = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
        if (put < 0 && errno == EINTR) continue;
        if (put < 0) fail_io("write", file);
        bytes = bytes.subspan(static_cast<std::size_t>(put));
        offset += static_cast<std::uint64_t>(put);
    }
}

void sync_directory(const fs::path& directory) {
    UniqueFd fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0) fail_io("sync", directory);
}

// Makes the file's directory (0700, as the store's) when missing.
void make_directories(const fs::path& data_dir, const fs::path& file) {
    fs::path current = data_dir;
    for (const auto& part : fs::relative(file.parent_path(), data_dir)) {
        current /= part;
        if (fs::create_directory(current))
            fs::permissions(current, fs::perms::owner_all, fs::perm_options::replace);
    }
}

// The partial download of one file: its bytes so far, their hash, and the lock that makes it ours.
class Partial {
  public:
    Partial(fs::path path, const std::string& what) : path_(std::move(path)) {
        fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd_ < 0) fail_io("create", path_);
        int rc;
        do {
            rc = ::flock(fd_, LOCK_EX | LOCK_NB);
        } while (rc != 0 && errno == EINTR);
        if (rc != 0) {
            ::close(fd_);
            if (errno == EWOULDBLOCK) throw PullError(what + " is being pulled by another process");
            fail_io("lock", path_);
        }
        struct stat info {};
        if (::fstat(fd_, &info) != 0) fail_io("stat", path_);
        size_ = static_cast<std::uint64_t>(info.st_size);
        hash_.emplace();
        hash_prefix(fd_, size_, *hash_, path_);
    }
    ~Partial() {
        if (fd_ >= 0) ::close(fd_);
    }
    Partial(const Partial&) = delete;
    Partial& operator=(const Partial&) = delete;

    std::uint64_t size() const { return size_; }
    void restart() {
        if (::ftruncate(fd_, 0) != 0) fail_io("truncate", path_);
        size_ = 0;
        hash_.emplace();
    }
    void append(std::span<const char> bytes) {
        write_all(fd_, bytes, size_, path_);
        hash_->update(bytes);
        size_ += bytes.size();
    }
    std::string digest() { return hash_->hex_digest(); }
    void remove() { ::unlink(path_.c_str()); }
    // Read-only and on disk, then under its final name.
    void install(const fs::path& final_path) {
        if (::fchmod(fd_, S_IRUSR) != 0) fail_io("chmod", path_);
        if (::fsync(fd_) != 0) fail_io("sync", path_);
        if (::rename(path_.c_str(), final_path.c_str()) != 0) fail_io("rename into", final_path);
        sync_directory(final_path.parent_path());
    }

  private:
    fs::path path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
    std::optional<Sha256> hash_{};
};

}  // namespace

class VersionPuller::Claim {
  public:
    Claim(VersionPuller& puller, std::int64_t version_id) : puller_(puller), version_id_(version_id) {
        std::unique_lock lock(puller_.mutex_);
        puller_.released_.wait(lock, [&] { return !puller_.pulling_.contains(version_id_); });
        puller_.pulling_.insert(version_id_);
    }
    ~Claim() {
        {
            std::lock_guard lock(puller_.mutex_);
            puller_.pulling_.erase(version_id_);
        }
        puller_.released_.notify_all();
    }
    Claim(const Claim&) = delete;
    Claim& operator=(const Claim&) = delete;

  private:
    VersionPuller& puller_;
    std::int64_t version_id_;
};

VersionPuller::VersionPuller(db::Catalog& catalog, PullerOptions options)
    : catalog_(catalog),
      options_(std::move(options)),
      tls_(client_tls(options_.peer_ca)),
      pool_(std::max(1u, options_.threads)) {}

VersionPuller::~VersionPuller() {
    pool_.join();
}

void VersionPuller::pull(const PullSource& source, const std::vector<VersionFile>& chain) {
    const auto peer = parse_peer_url(source.web_url);
    if (!peer) throw PullError("the source's web URL '" + source.web_url + "' is not http(s)://host[:port]");
    if (!peer->tls && !(options_.plain_http_on_loopback && peer->is_loopback()))
        throw PullError("refusing to pull over plain HTTP from " + source.web_url +
                        ": sources must use HTTPS");
    for (const auto& file : chain)
        pull_file(source, *peer, file);
}

std::shared_future<void> VersionPuller::start(PullSource source, std::vector<VersionFile> chain) {
    if (chain.empty()) throw PullError("nothing to pull");
    const auto wanted = chain.back().version_id;
    std::lock_guard lock(mutex_);
    if (auto running = started_.find(wanted); running != started_.end()) return running->second;
    auto task = std::make_shared<std::packaged_task<void()>>(
        [this, source = std::move(source), chain = std::move(chain), wanted] {
            struct Forget {
                VersionPuller& puller;
                std::int64_t version_id;
                ~Forget() {
                    std::lock_guard lock(puller.mutex_);
                    puller.started_.erase(version_id);
                }
            } forget{*this, wanted};
            pull(source, chain);
        });
    auto future = task->get_future().share();
    started_.emplace(wanted, future);
    boost::asio::post(pool_, [task] { (*task)(); });
    return future;
}

void VersionPuller::pull_file(const PullSource& source, const PeerUrl& peer, const VersionFile& file) {
    const auto what = name_of(file);
    if (file.sha256.size() != 64) throw PullError(what + " has no SHA-256 recorded: it cannot be verified");
    const auto final_path = local_path(options_.data_dir, file);
    Claim claim(*this, file.version_id);

    if (fs::exists(final_path)) {
        {
            auto session = catalog_.session();
            if (session.servers().holds(options_.server_id, file.version_id)) return;
        }
        // A copy renamed into place whose recording a crash cut short, or the version's original file.
        const auto got = sha256_of(final_path);
        if (got != file.sha256)
            throw PullError(what + ": " + final_path.string() +
                            " is in the way with other content (SHA-256 " + got + ", expected " +
                            file.sha256 + ")");
    } else {
        make_directories(options_.data_dir, final_path);
        auto partial_path = final_path;
        partial_path += ".partial";
        Partial partial(partial_path, what);
        if (file.size && partial.size() > *file.size) partial.restart();
        const DownloadRequest base{
            .peer = peer,
            .target = "/api/v1/images/" + file.image + "/versions/" + std::to_string(file.number) + "/file",
            .bearer_token = source.bearer_token};
        std::string last_error;
        bool complete = false;
        for (int attempt = 1; attempt <= std::max(1, options_.attempts) && !complete; ++attempt) {
            auto request = base;
            request.offset = partial.size();
            if (file.size && request.offset == *file.size) break;  // downloaded before, not yet verified
            DownloadHandlers handlers;
            handlers.head = [&](const DownloadHead& head) {
                if (head.sha256 && *head.sha256 != file.sha256) {
                    partial.remove();
                    throw PullError(what + ": the source's copy has SHA-256 " + *head.sha256 + ", expected " +
                                    file.sha256 + "; nothing was kept");
                }
                if (file.size && head.total != *file.size)
                    throw PullError(what + ": the source's copy has " + std::to_string(head.total) +
                                    " bytes, expected " + std::to_string(*file.size));
                if (head.offset == 0 && partial.size() > 0) partial.restart();  // the source sent it all
            };
            handlers.body = [&](std::span<const char> bytes) {
                if (cancelled_)
                    throw PullError("pulling " + what + " stopped (the server is stopping); " +
                                    std::to_string(partial.size()) + " bytes kept to resume");
                partial.append(bytes);
            };
            try {
                if (request.offset > 0)
                    log::info("replication: resuming ", what, " from ", source.web_url, " at byte ",
                              request.offset);
                download(request, &tls_, options_.timeouts, handlers);
                complete = true;
            } catch (const DownloadError& e) {
                last_error = e.what();
                log::warn("replication: pulling ", what, " from ", source.web_url, " (attempt ", attempt,
                          "): ", last_error);
                if (e.range_refused()) partial.restart();
            }
        }
        if (!complete && !(file.size && partial.size() == *file.size))
            throw PullError("pulling " + what + " from " + source.web_url + " failed: " + last_error + " (" +
                            std::to_string(partial.size()) + " bytes kept to resume)");
        const auto got = partial.digest();
        if (got != file.sha256) {
            partial.remove();
            throw PullError(what + " from " + source.web_url + " failed verification: SHA-256 expected " +
                            file.sha256 + ", got " + got + "; the copy was deleted");
        }
        partial.install(final_path);
    }
    auto session = catalog_.session();
    session.servers().record_verified_copy(options_.server_id, file.version_id, db::now_ms());
    log::info("replication: holds a verified copy of ", what);
}

}  // namespace bootherd::replication
