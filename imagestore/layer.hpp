#pragma once
// One image file of a chain, seen by the chain reader: where each virtual range comes from.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace bootherd::imagestore {

struct Mapping {
    enum class Source : std::uint8_t {
        data,    // in this file at file_offset
        zero,    // reads as zeros
        parent,  // not in this layer: read the parent (zeros at the end of the chain)
    };
    Source source = Source::zero;
    std::uint64_t file_offset = 0;
    std::uint64_t length = 0;  // > 0, at most the requested length
};

class Layer {
  public:
    virtual ~Layer() = default;

    virtual const std::string& path() const = 0;
    virtual const char* format_name() const = 0;
    virtual std::uint64_t virtual_size() const = 0;
    virtual std::uint32_t logical_sector_size() const = 0;
    virtual std::uint32_t physical_sector_size() const = 0;

    // The mapping of the range starting at `offset` (sector aligned), for at most max_length bytes.
    virtual Mapping map(std::uint64_t offset, std::uint64_t max_length) const = 0;
    virtual void read_data(std::uint64_t file_offset, std::span<std::byte> out) const = 0;

    // The non-blocking pair, for reads served on a network thread: try_map gives up (false) rather than wait
    // for a writer, read_data_cached rather than wait for the disk. Neither throws.
    virtual bool try_map(std::uint64_t offset, std::uint64_t max_length, Mapping& out) const = 0;
    virtual bool read_data_cached(std::uint64_t file_offset, std::span<std::byte> out) const = 0;

    // Paths where the parent may be, in the order to try them; empty for a base image.
    virtual std::vector<std::string> parent_candidates() const { return {}; }
    // Throws ImageError when `parent` is not the image this layer was created on.
    virtual void check_parent(const Layer& parent) const { (void)parent; }
};

}  // namespace bootherd::imagestore
