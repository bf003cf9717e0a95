#pragma once
// Temp data directories and disk content helpers for the image store tests.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <set>

#include "block/block_device.hpp"
#include "imagestore/store/disk_usage.hpp"

namespace bootherd::imagestore::store::testing {

class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

// A sparse raw file of `size` bytes with random data only in the given [offset, length) ranges.
void write_raw_image(const std::filesystem::path& file, std::uint64_t size,
                     const std::vector<std::pair<std::uint64_t, std::uint64_t>>& data_ranges,
                     std::mt19937_64& rng);
std::vector<std::byte> read_all(block::BlockDevice& device);
std::vector<std::byte> read_file(const std::filesystem::path& file);
std::vector<std::byte> random_bytes(std::size_t length, std::mt19937_64& rng);

// Sessions by target IQN, as the iSCSI server would report them.
struct FakeDiskUsage final : DiskUsage {
    std::set<std::string> logged_in;
    bool has_sessions(const db::Node& node) const override { return logged_in.contains(node.iqn); }
};

}  // namespace bootherd::imagestore::store::testing
