#pragma once
// A per-process registry of open read-only image layers, keyed by canonical path. Sealed versions are the
// parents of every node disk: opening each once and sharing it across all chains means one file descriptor
// and one set of parsed metadata per base, and reads from all machines go through the same page-cache pages.
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "imagestore/image_chain.hpp"
#include "imagestore/layer.hpp"

namespace bootherd::imagestore::store {

class SharedLayers {
  public:
    // The open layer for `path`, opening it read-only on first use. It stays open while any chain holds it.
    std::shared_ptr<Layer> open(const std::string& path);
    // How many distinct layers are open now (tests, diagnostics).
    std::size_t open_count() const;

    // Opens the image at `path` with its whole parent chain; every parent comes from this registry. With
    // writable = true the top is opened read-write (it must be a VHDX) and is not shared. Throws ImageError.
    std::shared_ptr<ImageChain> open_chain(const std::string& path, bool writable);

  private:
    mutable std::mutex mutex_;
    std::map<std::string, std::weak_ptr<Layer>> layers_;
};

}  // namespace bootherd::imagestore::store
