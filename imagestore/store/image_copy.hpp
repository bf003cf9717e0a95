#pragma once
// Turning a user's disk image into a standalone dynamic VHDX of the store: format recognition (raw, VHD,
// VHDX natively; qcow2 and VMDK through `qemu-img convert`), an independent libvhdi check of VHDX input, and
// the block copy that leaves all-zero blocks unallocated.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "block/block_device.hpp"

namespace bootherd::imagestore::store {

// Called with bytes examined so far and the total, after every block and once at the end.
using Progress = std::function<void(std::uint64_t done, std::uint64_t total)>;

inline constexpr std::uint32_t kDefaultBlockSize = 2 * 1024 * 1024;

// Copies every block of `source` that is not all zeros into a new dynamic VHDX at `destination` (which must
// not exist) with the source's geometry. Returns the virtual size. Throws ImageError.
std::uint64_t copy_to_vhdx(block::BlockDevice& source, const std::filesystem::path& destination,
                           std::uint32_t block_size, const Progress& progress);

// The format of a disk image that may be imported: "raw", "vhd" or "vhdx" (not differencing), or "qcow2" or
// "vmdk" (self-contained, see qemu_image.hpp). Throws ImageError naming the file and the problem: an image
// that refers to any other file (backing file, parent, extent, data file) is refused.
std::string check_importable(const std::filesystem::path& file);

// A disk image ready to be opened by our engine: the file itself, or a raw conversion in `scratch_dir`
// (removed by the destructor).
class ImportSource {
  public:
    // check_importable, then converts qcow2/VMDK with qemu-img; checks VHDX with vhdiinfo when installed.
    // Throws ImageError naming the file and the problem.
    ImportSource(const std::filesystem::path& file, const std::filesystem::path& scratch_dir);
    ~ImportSource();
    ImportSource(const ImportSource&) = delete;
    ImportSource& operator=(const ImportSource&) = delete;

    const std::filesystem::path& path() const { return path_; }
    const std::string& format() const { return format_; }

  private:
    std::filesystem::path path_;
    std::filesystem::path converted_;  // empty unless we made a temporary raw file
    std::string format_;
};

// Runs argv without a shell, with stdout/stderr captured; returns the exit status (127 when it cannot start)
// and appends the output to `output`.
int run_program(const std::vector<std::string>& argv, std::string& output);
// The last non-empty line of a tool's output: where qemu-img and vhdiinfo put the error.
std::string last_output_line(const std::string& text);
// True when `program` is an executable in PATH.
bool program_available(const std::string& program);

}  // namespace bootherd::imagestore::store
