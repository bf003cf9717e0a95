#pragma once
// Homes a machine on a server at its boot, in one catalog transaction, so that machines booting at once on
// different servers see each other's placements (docs/SCALE-OUT.md):
//   - a persistent machine stays on its home: its disk lives there (a first boot homes it like any other);
//   - a non-persistent one goes, at every boot, to the least-loaded live server that holds a verified copy of
//     the version it boots (placement/least_loaded.hpp). A server whose heartbeat stopped takes no machines,
//     so its machines move to the others at their next boot.
#include <cstdint>
#include <optional>
#include <string>

#include "db/catalog.hpp"

namespace bootherd::placement {

struct PlacementSettings {
    std::int64_t heartbeat_timeout_ms = 30'000;    // a server silent for longer is taken for dead
    std::int64_t booting_window_ms = 10 * 60'000;  // a placed machine not yet up counts as booting this long
};

struct Placement {
    std::int64_t server_id = 0;
    bool moved = false;  // homed elsewhere (or nowhere) before
};

class HomePlacer {
  public:
    HomePlacer(db::Catalog& catalog, PlacementSettings settings) : catalog_(catalog), settings_(settings) {}

    // Homes the node for a boot of `version_id`. nullopt when no server may take it (none alive holds the
    // version, or all are at their booting cap): the caller keeps the machine where it is.
    std::optional<Placement> place(std::int64_t node_id, std::int64_t version_id, std::int64_t now_ms);

  private:
    db::Catalog& catalog_;
    PlacementSettings settings_;
};

}  // namespace bootherd::placement
