#pragma once
// Copies sealed versions this server lacks from a server that holds them. A sealed version is an immutable
// file whose SHA-256 the catalog recorded at seal, so replication is only copying files: download into
// "<file>.partial" (resumed with a Range request after an interruption), check the SHA-256 of the whole
// file, sync, rename into place read-only, then record the verified copy in the catalog
// (servers.record_verified_copy). The file exists at its final path only once verified, which is what lets
// the web service serve a version exactly when this server holds a verified copy.
//
// A version is a VHDX differencing chain, so a pull takes the chain base first; files held already are
// skipped. One pull per version at a time: in this process by a table of running pulls, across processes
// by the partial file's lock (the lock the store's orphan sweep respects).
#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "db/catalog.hpp"
#include "replication/file_download.hpp"

namespace bootherd::replication {

// One file of a version chain, as the catalog describes it.
struct VersionFile {
    std::int64_t version_id = 0;
    std::string image{};
    std::int64_t number = 0;
    std::string sha256{};                 // recorded at seal: 64 lower-case hex digits
    std::optional<std::uint64_t> size{};  // the file's length in bytes, when known
    std::string file_path{};              // relative to the data directory
};

struct PullSource {
    std::string web_url{};       // the source server's, "https://host:port"
    std::string bearer_token{};  // an admin-scope API token of the shared catalog; never logged
};

struct PullerOptions {
    std::filesystem::path data_dir{};
    std::int64_t server_id = 0;  // this server, whose verified copies the catalog records
    std::string peer_ca{};  // PEM file the sources' certificates must verify against; empty: system store
    bool plain_http_on_loopback = false;  // tests only: lets http:// sources on a loopback address through
    DownloadTimeouts timeouts{};
    int attempts = 3;      // connections per file before its pull fails; each resumes where the last stopped
    unsigned threads = 2;  // pulls running at once (start())
};

class PullError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class VersionPuller {
  public:
    // Throws std::system_error when peer_ca cannot be loaded.
    VersionPuller(db::Catalog& catalog, PullerOptions options);
    ~VersionPuller();  // waits for the pulls started
    VersionPuller(const VersionPuller&) = delete;
    VersionPuller& operator=(const VersionPuller&) = delete;

    // Pulls `chain` (base first, the version wanted last) on the calling thread; throws PullError.
    void pull(const PullSource& source, const std::vector<VersionFile>& chain);
    // The same on the puller's own threads. While a pull of the same version runs, its future is returned
    // instead of a second pull.
    std::shared_future<void> start(PullSource source, std::vector<VersionFile> chain);
    // Stops every pull at its next piece of data (a server stopping must not wait for gigabytes): each
    // fails with PullError, its partial file kept for the next start to resume. Later pulls fail at once.
    void cancel() noexcept { cancelled_ = true; }

  private:
    void pull_file(const PullSource& source, const PeerUrl& peer, const VersionFile& file);
    // Blocks while another thread of this process pulls the version.
    class Claim;

    db::Catalog& catalog_;
    PullerOptions options_;
    boost::asio::ssl::context tls_;
    std::atomic<bool> cancelled_{false};
    std::mutex mutex_;
    std::condition_variable released_;
    std::set<std::int64_t> pulling_;                            // versions whose file a thread is pulling
    std::map<std::int64_t, std::shared_future<void>> started_;  // by the version wanted
    boost::asio::thread_pool pool_;
};

}  // namespace bootherd::replication
