#include "imagestore/image_format.hpp"

#include <array>
#include <cstring>

#include "imagestore/image_file.hpp"
#include "imagestore/raw_file.hpp"
#include "imagestore/vhd_file.hpp"
#include "imagestore/vhdx_file.hpp"

namespace bootherd::imagestore {

ImageFormat detect_format(const std::string& path) {
    ImageFile file(path, ImageFile::Access::read_only);
    std::uint64_t size = file.size();
    std::array<std::byte, 8> sig{};
    if (size >= 8) {
        file.read_exact(0, sig);
        if (std::memcmp(sig.data(), "vhdxfile", 8) == 0) return ImageFormat::vhdx;
    }
    if (size >= 512) {
        file.read_exact(size - 512, sig);
        if (std::memcmp(sig.data(), "conectix", 8) == 0) return ImageFormat::vhd;
    }
    return ImageFormat::raw;
}

std::shared_ptr<Layer> open_layer(const std::string& path) {
    switch (detect_format(path)) {
        case ImageFormat::vhdx:
            return VhdxFile::open(path, OpenMode::read_only);
        case ImageFormat::vhd:
            return VhdFile::open(path);
        case ImageFormat::raw:
            break;
    }
    return RawFile::open(path);
}

}  // namespace bootherd::imagestore
