#pragma once
// An in-memory BlockDevice for the SCSI tests: thin (tracks which blocks are mapped), resizable, and able to
// fail with a chosen error (ENOSPC, EIO) to exercise the error paths.
#include <algorithm>
#include <cstring>
#include <mutex>
#include <vector>

#include "block/block_device.hpp"

namespace bootherd::scsi::testing {

class MemoryBlockDevice final : public block::BlockDevice {
  public:
    explicit MemoryBlockDevice(std::uint64_t blocks, std::uint32_t block_size = 512, bool thin = true)
        : block_size_(block_size), data_(blocks * block_size), mapped_(blocks, false) {
        geometry_.size_bytes = blocks * block_size;
        geometry_.logical_block_size = block_size;
        geometry_.physical_block_size = block_size;
        geometry_.thin = thin;
    }

    block::Geometry geometry() const override {
        std::lock_guard lock(mutex_);
        return geometry_;
    }
    void set_geometry(const block::Geometry& g) {
        std::lock_guard lock(mutex_);
        geometry_ = g;
    }
    void resize(std::uint64_t blocks) {
        std::lock_guard lock(mutex_);
        geometry_.size_bytes = blocks * block_size_;
        data_.resize(blocks * block_size_);
        mapped_.resize(blocks, false);
    }
    // Every later read/write/unmap/flush fails with ec (clear it with {}).
    void fail_with(std::error_code ec) {
        std::lock_guard lock(mutex_);
        failure_ = ec;
    }

    std::error_code read(std::uint64_t offset, std::span<std::byte> out) override {
        std::lock_guard lock(mutex_);
        if (failure_) return failure_;
        std::memcpy(out.data(), data_.data() + offset, out.size());
        return {};
    }
    std::error_code write(std::uint64_t offset, std::span<const std::byte> in, bool fua) override {
        std::lock_guard lock(mutex_);
        if (failure_) return failure_;
        std::memcpy(data_.data() + offset, in.data(), in.size());
        mark(offset, in.size(), true);
        if (fua) ++fua_writes;
        ++writes;
        return {};
    }
    std::error_code flush() override {
        std::lock_guard lock(mutex_);
        if (failure_) return failure_;
        ++flushes;
        return {};
    }
    std::error_code unmap(std::uint64_t offset, std::uint64_t length) override {
        std::lock_guard lock(mutex_);
        if (failure_) return failure_;
        std::fill_n(data_.begin() + static_cast<std::ptrdiff_t>(offset), length, std::byte{0});
        mark(offset, length, false);
        return {};
    }
    std::error_code write_same(std::uint64_t offset, std::uint64_t length, std::span<const std::byte> pattern,
                               bool may_unmap) override {
        const bool zero =
            std::all_of(pattern.begin(), pattern.end(), [](std::byte b) { return b == std::byte{0}; });
        if (zero && may_unmap) return unmap(offset, length);
        return block::write_same_by_writes(*this, offset, length, pattern);
    }
    std::error_code extent_at(std::uint64_t offset, std::uint64_t max_length, Extent& out) override {
        std::lock_guard lock(mutex_);
        std::uint64_t block = offset / block_size_;
        const std::uint64_t last = std::min<std::uint64_t>(mapped_.size(), block + max_length / block_size_);
        const bool state = mapped_[block];
        std::uint64_t end = block;
        while (end < last && mapped_[end] == state)
            ++end;
        out = {state ? block::Provisioning::mapped : block::Provisioning::deallocated,
               (end - block) * block_size_};
        return {};
    }
    std::string describe() const override { return "memory"; }

    std::vector<std::byte> contents(std::uint64_t offset, std::size_t length) const {
        std::lock_guard lock(mutex_);
        return {data_.begin() + static_cast<std::ptrdiff_t>(offset),
                data_.begin() + static_cast<std::ptrdiff_t>(offset + length)};
    }

    std::size_t writes = 0;
    std::size_t fua_writes = 0;
    std::size_t flushes = 0;

  private:
    void mark(std::uint64_t offset, std::uint64_t length, bool state) {
        for (std::uint64_t b = offset / block_size_; b < (offset + length) / block_size_; ++b)
            mapped_[b] = state;
    }

    mutable std::mutex mutex_;
    std::uint32_t block_size_;
    block::Geometry geometry_;
    std::vector<std::byte> data_;
    std::vector<bool> mapped_;
    std::error_code failure_;
};

}  // namespace bootherd::scsi::testing
