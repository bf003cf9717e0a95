#pragma once
// Serialises the orphan sweep against file+row mutations, across processes (`serve` and CLI commands share a
// data directory). A mutation creates a file and then commits the row that references it; between the two
// the file looks like an orphan, so mutations (including a whole import, staged in tmp/) hold the lock shared
// and the sweep takes it exclusively, or skips its file pass when some process is mid-mutation.
#include <filesystem>

namespace bootherd::imagestore::store {

class StoreLock {
  public:
    // shared waits for it; try_exclusive does not wait: check held(). Throws std::system_error.
    enum class Mode { shared, try_exclusive };
    StoreLock(const std::filesystem::path& lock_file, Mode mode);
    ~StoreLock();
    StoreLock(const StoreLock&) = delete;
    StoreLock& operator=(const StoreLock&) = delete;

    bool held() const { return held_; }

  private:
    int fd_ = -1;
    bool held_ = false;
};

}  // namespace bootherd::imagestore::store
