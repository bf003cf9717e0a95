#include "imagestore/image_chain.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "common/log.hpp"
#include "imagestore/image_error.hpp"
#include "imagestore/image_format.hpp"

namespace bootherd::imagestore {

namespace {
constexpr std::size_t kMaxChainDepth = 64;
}

ImageChain::ImageChain(std::vector<std::shared_ptr<Layer>> layers, std::shared_ptr<VhdxFile> writable_top)
    : layers_(std::move(layers)), top_(std::move(writable_top)) {}

block::Geometry ImageChain::geometry() const {
    const Layer& top = *layers_.front();
    block::Geometry g;
    g.size_bytes = top.virtual_size();
    g.logical_block_size = top.logical_sector_size();
    g.physical_block_size = top.physical_sector_size();
    g.read_only = !top_;
    g.thin = top_ != nullptr;
    g.write_cache = top_ != nullptr;  // metadata (and data durability) wait for flush or FUA
    if (top_) g.unmap_granularity_blocks = top_->block_size() / g.logical_block_size;
    return g;
}

std::string ImageChain::describe() const {
    std::ostringstream os;
    for (std::size_t i = 0; i < layers_.size(); ++i)
        os << (i ? " -> " : "") << layers_[i]->format_name() << ' ' << layers_[i]->path();
    if (!top_) os << " (read-only)";
    return os.str();
}

std::error_code ImageChain::check(std::uint64_t offset, std::uint64_t length, bool for_write) const {
    if (for_write && !top_) return std::make_error_code(std::errc::read_only_file_system);
    const Layer& top = *layers_.front();
    if (offset % top.logical_sector_size() != 0 || length % top.logical_sector_size() != 0 ||
        offset > top.virtual_size() || length > top.virtual_size() - offset)
        return std::make_error_code(std::errc::invalid_argument);
    return {};
}

void ImageChain::read_from(std::size_t level, std::uint64_t offset, std::span<std::byte> out) const {
    const Layer& layer = *layers_[level];
    while (!out.empty()) {
        Mapping m = layer.map(offset, out.size());
        auto piece = out.first(static_cast<std::size_t>(m.length));
        switch (m.source) {
            case Mapping::Source::data:
                layer.read_data(m.file_offset, piece);
                break;
            case Mapping::Source::zero:
                std::memset(piece.data(), 0, piece.size());
                break;
            case Mapping::Source::parent:
                if (level + 1 < layers_.size())
                    read_from(level + 1, offset, piece);
                else
                    std::memset(piece.data(), 0, piece.size());
                break;
        }
        offset += m.length;
        out = out.subspan(piece.size());
    }
}

bool ImageChain::try_read_from(std::size_t level, std::uint64_t offset,
                               std::span<std::byte> out) const noexcept {
    const Layer& layer = *layers_[level];
    while (!out.empty()) {
        Mapping m;
        if (!layer.try_map(offset, out.size(), m)) return false;
        auto piece = out.first(static_cast<std::size_t>(m.length));
        switch (m.source) {
            case Mapping::Source::data:
                if (!layer.read_data_cached(m.file_offset, piece)) return false;
                break;
            case Mapping::Source::zero:
                std::memset(piece.data(), 0, piece.size());
                break;
            case Mapping::Source::parent:
                if (level + 1 < layers_.size()) {
                    if (!try_read_from(level + 1, offset, piece)) return false;
                } else {
                    std::memset(piece.data(), 0, piece.size());
                }
                break;
        }
        offset += m.length;
        out = out.subspan(piece.size());
    }
    return true;
}

template <class F>
std::error_code ImageChain::guarded(const char* what, F&& operation) {
    try {
        operation();
        return {};
    } catch (const ImageError& e) {
        log_failure(what, e.what());
        return std::make_error_code(block::is_out_of_space(e.code()) ? std::errc::no_space_on_device
                                                                     : std::errc::io_error);
    } catch (const std::exception& e) {
        log_failure(what, e.what());
        return std::make_error_code(std::errc::io_error);
    }
}

void ImageChain::log_failure(const char* what, const char* why) {
    const std::lock_guard lock(error_log_mutex_);
    error_log_.error(describe() + ": " + what + " failed: " + why, RateLimitedLog::Clock::now());
}

std::error_code ImageChain::read(std::uint64_t offset, std::span<std::byte> out) {
    if (auto ec = check(offset, out.size(), false)) return ec;
    return guarded("read", [&] { read_from(0, offset, out); });
}

bool ImageChain::try_read_nowait(std::uint64_t offset, std::span<std::byte> out) {
    return !check(offset, out.size(), false) && try_read_from(0, offset, out);
}

std::error_code ImageChain::write(std::uint64_t offset, std::span<const std::byte> data, bool fua) {
    if (auto ec = check(offset, data.size(), true)) return ec;
    return guarded("write", [&] { top_->write(offset, data, fua); });
}

std::error_code ImageChain::flush() {
    if (!top_) return {};
    return guarded("flush", [&] { top_->flush(); });
}

std::error_code ImageChain::unmap(std::uint64_t offset, std::uint64_t length) {
    if (auto ec = check(offset, length, true)) return ec;
    return guarded("unmap", [&] { top_->unmap(offset, length); });
}

std::error_code ImageChain::write_same(std::uint64_t offset, std::uint64_t length,
                                       std::span<const std::byte> pattern, bool may_unmap) {
    if (auto ec = check(offset, length, true)) return ec;
    if (pattern.size() != layers_.front()->logical_sector_size())
        return std::make_error_code(std::errc::invalid_argument);
    bool zero = std::all_of(pattern.begin(), pattern.end(), [](std::byte b) { return b == std::byte{0}; });
    if (zero && may_unmap) return unmap(offset, length);
    return block::write_same_by_writes(*this, offset, length, pattern);
}

std::error_code ImageChain::extent_at(std::uint64_t offset, std::uint64_t max_length, Extent& out) {
    if (auto ec = check(offset, max_length, false)) return ec;
    return guarded("extent lookup", [&] {
        for (std::size_t level = 0;; ++level) {
            if (level == layers_.size()) {
                out = {block::Provisioning::deallocated, max_length};
                return;
            }
            Mapping m = layers_[level]->map(offset, max_length);
            if (m.source == Mapping::Source::parent) {
                max_length = m.length;
                continue;
            }
            out = {m.source == Mapping::Source::data ? block::Provisioning::mapped
                                                     : block::Provisioning::deallocated,
                   m.length};
            return;
        }
    });
}

void ImageChain::close() {
    if (top_) top_->close();
}

std::shared_ptr<ImageChain> open_image(const std::string& path, bool read_only) {
    std::vector<std::shared_ptr<Layer>> layers;
    std::shared_ptr<VhdxFile> top;
    if (read_only) {
        layers.push_back(open_layer(path));
    } else {
        if (detect_format(path) != ImageFormat::vhdx)
            throw ImageError(path, "only VHDX images can be opened read-write");
        top = VhdxFile::open(path, OpenMode::read_write);
        layers.push_back(top);
    }
    while (true) {
        auto candidates = layers.back()->parent_candidates();
        if (candidates.empty()) break;
        if (layers.size() >= kMaxChainDepth)
            throw ImageError(path, "parent chain is deeper than 64 images (a loop?)");
        auto found = std::find_if(candidates.begin(), candidates.end(),
                                  [](const std::string& p) { return std::filesystem::exists(p); });
        if (found == candidates.end()) {
            std::string tried;
            for (const auto& c : candidates)
                tried += (tried.empty() ? "" : ", ") + c;
            throw ImageError(layers.back()->path(), "parent image not found (tried " + tried + ")");
        }
        auto parent = open_layer(*found);
        layers.back()->check_parent(*parent);
        layers.push_back(std::move(parent));
    }
    return std::make_shared<ImageChain>(std::move(layers), std::move(top));
}

}  // namespace bootherd::imagestore
