#include "imagestore/raw_file.hpp"

#include "imagestore/image_error.hpp"

namespace bootherd::imagestore {

RawFile::RawFile(const std::string& path)
    : file_(path, ImageFile::Access::read_only), size_(file_.size() / 512 * 512) {
    if (size_ == 0) throw ImageError(path, "raw image is smaller than one sector");
}

std::shared_ptr<RawFile> RawFile::open(const std::string& path) {
    return std::make_shared<RawFile>(path);
}

}  // namespace bootherd::imagestore
