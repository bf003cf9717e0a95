#pragma once
// One `bootherd serve` per data directory: an flock on <data>/serve.lock held for serve's lifetime (the
// kernel drops it when the process ends, however it ends). The file holds the holder's pid, for the message.
#include <filesystem>

namespace bootherd::cli {

class ServeLock {
  public:
    // Makes the data directory if needed; throws naming the directory and the holder when another serve runs.
    explicit ServeLock(const std::filesystem::path& data_dir);
    ~ServeLock();
    ServeLock(const ServeLock&) = delete;
    ServeLock& operator=(const ServeLock&) = delete;

  private:
    int fd_ = -1;
};

}  // namespace bootherd::cli
