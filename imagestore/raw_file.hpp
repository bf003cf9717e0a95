#pragma once
// A raw disk image, read-only: the file's bytes are the disk (its size rounded down to 512-byte sectors).
#include <memory>
#include <string>

#include "imagestore/image_file.hpp"
#include "imagestore/layer.hpp"

namespace bootherd::imagestore {

class RawFile final : public Layer {
  public:
    static std::shared_ptr<RawFile> open(const std::string& path);

    const std::string& path() const override { return file_.path(); }
    const char* format_name() const override { return "raw"; }
    std::uint64_t virtual_size() const override { return size_; }
    std::uint32_t logical_sector_size() const override { return 512; }
    std::uint32_t physical_sector_size() const override { return 512; }
    Mapping map(std::uint64_t offset, std::uint64_t max_length) const override {
        return {Mapping::Source::data, offset, max_length};
    }
    void read_data(std::uint64_t file_offset, std::span<std::byte> out) const override {
        file_.read_exact(file_offset, out);
    }
    bool try_map(std::uint64_t offset, std::uint64_t max_length, Mapping& out) const override {
        out = map(offset, max_length);
        return true;
    }
    bool read_data_cached(std::uint64_t file_offset, std::span<std::byte> out) const override {
        return file_.try_read_cached(file_offset, out);
    }

    explicit RawFile(const std::string& path);

  private:
    ImageFile file_;
    std::uint64_t size_;
};

}  // namespace bootherd::imagestore
