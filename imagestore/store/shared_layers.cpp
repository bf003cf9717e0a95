#include "imagestore/store/shared_layers.hpp"

#include <algorithm>
#include <filesystem>

#include "imagestore/image_error.hpp"
#include "imagestore/image_format.hpp"
#include "imagestore/vhdx_file.hpp"

namespace bootherd::imagestore::store {
namespace {
constexpr std::size_t kMaxChainDepth = 64;

std::string canonical_key(const std::string& path) {
    std::error_code ec;
    auto canonical = std::filesystem::canonical(path, ec);
    return ec ? path : canonical.string();
}
}  // namespace

std::shared_ptr<Layer> SharedLayers::open(const std::string& path) {
    const std::string key = canonical_key(path);
    const std::lock_guard lock(mutex_);
    if (auto existing = layers_[key].lock()) return existing;
    std::erase_if(layers_, [](const auto& entry) { return entry.second.expired(); });
    auto layer = open_layer(key);
    layers_[key] = layer;
    return layer;
}

std::size_t SharedLayers::open_count() const {
    const std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count_if(layers_.begin(), layers_.end(),
                                                  [](const auto& entry) { return !entry.second.expired(); }));
}

std::shared_ptr<ImageChain> SharedLayers::open_chain(const std::string& path, bool writable) {
    std::vector<std::shared_ptr<Layer>> layers;
    std::shared_ptr<VhdxFile> top;
    if (writable) {
        if (detect_format(path) != ImageFormat::vhdx)
            throw ImageError(path, "only VHDX images can be opened read-write");
        top = VhdxFile::open(path, OpenMode::read_write);
        layers.push_back(top);
    } else {
        layers.push_back(open(path));
    }
    while (true) {
        auto candidates = layers.back()->parent_candidates();
        if (candidates.empty()) break;
        if (layers.size() >= kMaxChainDepth)
            throw ImageError(path, "parent chain is deeper than 64 images (a loop?)");
        auto found = std::find_if(candidates.begin(), candidates.end(),
                                  [](const std::string& p) { return std::filesystem::exists(p); });
        if (found == candidates.end())
            throw ImageError(layers.back()->path(),
                             "parent image not found (tried " + candidates.front() + ")");
        auto parent = open(*found);
        layers.back()->check_parent(*parent);
        layers.push_back(std::move(parent));
    }
    return std::make_shared<ImageChain>(std::move(layers), std::move(top));
}

}  // namespace bootherd::imagestore::store
