#include "imagestore/store/image_copy.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <random>
#include <vector>

#include "imagestore/image_error.hpp"
#include "imagestore/image_format.hpp"
#include "imagestore/store/qemu_image.hpp"
#include "imagestore/vhdx_file.hpp"

namespace bootherd::imagestore::store {
namespace {

bool all_zero(std::span<const std::byte> data) {
    return std::all_of(data.begin(), data.end(), [](std::byte b) { return b == std::byte{0}; });
}

}  // namespace

std::string last_output_line(const std::string& text) {
    std::string last;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        if (end > start) last = text.substr(start, end - start);
        start = end + 1;
    }
    return last.empty() ? "no output" : last;
}

int run_program(const std::vector<std::string>& argv, std::string& output) {
    std::string command;
    for (const auto& arg : argv) {
        command += '\'';
        for (char c : arg) {
            if (c == '\'')
                command += "'\\''";
            else
                command += c;
        }
        command += "' ";
    }
    command += "2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) return 127;
    std::array<char, 4096> buffer{};
    std::size_t n;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
        output.append(buffer.data(), n);
    const int status = ::pclose(pipe);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

bool program_available(const std::string& program) {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/bin:/bin";
    std::size_t start = 0;
    while (start <= dirs.size()) {
        std::size_t end = dirs.find(':', start);
        if (end == std::string::npos) end = dirs.size();
        auto candidate = std::filesystem::path(dirs.substr(start, end - start)) / program;
        if (::access(candidate.c_str(), X_OK) == 0) return true;
        start = end + 1;
    }
    return false;
}

std::uint64_t copy_to_vhdx(block::BlockDevice& source, const std::filesystem::path& destination,
                           std::uint32_t block_size, const Progress& progress) {
    const block::Geometry geometry = source.geometry();
    CreateOptions options;
    options.size = geometry.size_bytes;
    options.block_size = block_size;
    options.logical_sector = geometry.logical_block_size;
    options.physical_sector =
        std::max<std::uint32_t>(geometry.physical_block_size, geometry.logical_block_size);
    if (options.size == 0 || options.size % options.logical_sector != 0)
        throw ImageError(destination.string(), "source size " + std::to_string(options.size) +
                                                   " is not a positive multiple of the sector size");
    auto target = VhdxFile::create_dynamic(destination.string(), options);
    std::vector<std::byte> buffer(block_size);
    for (std::uint64_t offset = 0; offset < options.size; offset += block_size) {
        const std::size_t length =
            static_cast<std::size_t>(std::min<std::uint64_t>(block_size, options.size - offset));
        std::span<std::byte> chunk(buffer.data(), length);
        block::BlockDevice::Extent extent;
        if (!source.extent_at(offset, length, extent) && extent.state != block::Provisioning::mapped &&
            extent.length >= length) {
            if (progress) progress(offset + length, options.size);
            continue;  // unallocated in the source: reads as zeros
        }
        if (auto ec = source.read(offset, chunk))
            throw ImageError(source.describe(),
                             "read at " + std::to_string(offset) + " failed: " + ec.message());
        if (!all_zero(chunk)) target->write(offset, chunk, false);
        if (progress) progress(offset + length, options.size);
    }
    target->close();
    return options.size;
}

std::string check_importable(const std::filesystem::path& file) {
    if (!std::filesystem::is_regular_file(file) && !std::filesystem::is_block_file(file))
        throw ImageError(file.string(), "no such image file");
    if (std::string foreign = qemu_format(file); !foreign.empty()) {
        require_self_contained(file, foreign);
        return foreign;
    }
    const ImageFormat native = detect_format(file.string());
    if (native == ImageFormat::raw) return "raw";
    // A differencing VHD/VHDX would pull in its parent, found by a path written in the file.
    if (const auto parents = open_layer(file.string())->parent_candidates(); !parents.empty())
        throw ImageError(file.string(), "is a differencing disk (parent " + parents.front() +
                                            "); only self-contained images are imported (merge the chain "
                                            "into one file first, e.g. `qemu-img convert -O vhdx`)");
    return native == ImageFormat::vhdx ? "vhdx" : "vhd";
}

ImportSource::ImportSource(const std::filesystem::path& file, const std::filesystem::path& scratch_dir)
    : path_(file), format_(check_importable(file)) {
    if (format_ == "qcow2" || format_ == "vmdk") {
        std::random_device random;
        converted_ = scratch_dir / ("convert-" + std::to_string(random()) + ".raw");
        convert_to_raw(file, format_, converted_);
        path_ = converted_;
    } else if (format_ == "vhdx") {
        // An independent reader's opinion, so a file our parser tolerates but others reject is caught early.
        std::string output;
        if (program_available("vhdiinfo") && run_program({"vhdiinfo", file.string()}, output) != 0)
            throw ImageError(file.string(), "libvhdi (vhdiinfo) cannot read it: " + last_output_line(output));
    }
}

ImportSource::~ImportSource() {
    if (!converted_.empty()) {
        std::error_code ignored;
        std::filesystem::remove(converted_, ignored);
    }
}

}  // namespace bootherd::imagestore::store
