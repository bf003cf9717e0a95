#pragma once
// A legacy VHD image (fixed, dynamic or differencing), read-only. Footer, dynamic header, BAT and sector
// bitmaps are big-endian; the bitmap of every allocated block is loaded at open.
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "imagestore/guid.hpp"
#include "imagestore/image_file.hpp"
#include "imagestore/layer.hpp"

namespace bootherd::imagestore {

class VhdFile final : public Layer {
  public:
    enum class Type : std::uint32_t { fixed = 2, dynamic = 3, differencing = 4 };

    static std::shared_ptr<VhdFile> open(const std::string& path);
    explicit VhdFile(const std::string& path);

    const std::string& path() const override { return file_.path(); }
    const char* format_name() const override { return "VHD"; }
    std::uint64_t virtual_size() const override { return size_; }
    std::uint32_t logical_sector_size() const override { return 512; }
    std::uint32_t physical_sector_size() const override { return 512; }
    Mapping map(std::uint64_t offset, std::uint64_t max_length) const override;
    void read_data(std::uint64_t file_offset, std::span<std::byte> out) const override {
        file_.read_exact(file_offset, out);
    }
    // The BAT and bitmaps never change after open, so mapping never waits.
    bool try_map(std::uint64_t offset, std::uint64_t max_length, Mapping& out) const override {
        out = map(offset, max_length);
        return true;
    }
    bool read_data_cached(std::uint64_t file_offset, std::span<std::byte> out) const override {
        return file_.try_read_cached(file_offset, out);
    }
    std::vector<std::string> parent_candidates() const override { return parent_paths_; }
    void check_parent(const Layer& parent) const override;

    Type type() const { return type_; }
    const std::array<std::byte, 16>& unique_id() const { return unique_id_; }

  private:
    void parse();

    ImageFile file_;
    Type type_ = Type::fixed;
    std::uint64_t size_ = 0;
    std::uint32_t block_size_ = 0;
    std::uint64_t bitmap_bytes_ = 0;            // per block, padded to 512
    std::vector<std::uint64_t> block_offsets_;  // file offset of each block's data, 0 when unallocated
    std::vector<std::vector<std::byte>> bitmaps_;
    std::array<std::byte, 16> unique_id_{};
    std::array<std::byte, 16> parent_id_{};
    std::vector<std::string> parent_paths_;
};

}  // namespace bootherd::imagestore
