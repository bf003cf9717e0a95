#pragma once
// Images only qemu-img reads (qcow2, VMDK). qemu follows references inside such a file (a qcow2 backing file
// or external data file, VMDK extents and parents) to any path the server can read, so an import first
// checks that the image is self-contained and then converts it with qemu-img told to open no backing file.
#include <filesystem>
#include <string>

namespace bootherd::imagestore::store {

// "qcow2" or "vmdk" by the magic at offset 0; empty for anything else.
std::string qemu_format(const std::filesystem::path& file);

// Throws ImageError naming the referenced file when `file` (of `format`) refers to any file but itself.
void require_self_contained(const std::filesystem::path& file, const std::string& format);

// Converts `file` (checked by require_self_contained) to a raw file at `raw`. Throws ImageError.
void convert_to_raw(const std::filesystem::path& file, const std::string& format,
                    const std::filesystem::path& raw);

}  // namespace bootherd::imagestore::store
