#pragma once
// Recognising an image file's format and opening one file of a chain read-only.
#include <memory>
#include <string>

#include "imagestore/layer.hpp"

namespace bootherd::imagestore {

enum class ImageFormat { raw, vhd, vhdx };

// VHDX by its "vhdxfile" identifier, VHD by its "conectix" footer, raw otherwise. Throws ImageError.
ImageFormat detect_format(const std::string& path);
std::shared_ptr<Layer> open_layer(const std::string& path);

}  // namespace bootherd::imagestore
