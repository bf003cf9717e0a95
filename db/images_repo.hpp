#pragma once
// Golden images, and the promotion history that decides which sealed version nodes boot.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.hpp"

namespace bootherd::db {

struct Image {
    std::int64_t id = 0;
    std::string name{};
    std::string description{};
    std::int64_t created_at = 0;
    std::optional<std::int64_t> promoted_version_id{};
    std::optional<std::int64_t> previous_promoted_version_id{};
};

struct Promotion {
    std::int64_t id = 0;
    std::int64_t image_id = 0;
    std::int64_t version_id = 0;
    std::int64_t promoted_at = 0;
    std::optional<std::int64_t> rolled_back_at{};
};

// Not thread-safe by itself: obtain it from a Catalog::Session, which holds the catalog lock.
class ImagesRepo {
  public:
    explicit ImagesRepo(Database& db) : db_(db) {}

    Image create(std::string_view name, std::string_view description = {});
    std::optional<Image> find(std::int64_t id);
    std::optional<Image> find_by_name(std::string_view name);
    Image get(std::int64_t id);  // NotFound
    std::vector<Image> list();
    void set_description(std::int64_t id, std::string_view description);
    // Deletes the image with its versions and history; Conflict while a node or group still uses it.
    void remove(std::int64_t id);

    // Makes a sealed version of this image the one nodes boot. Promoting the current version is a no-op.
    void promote(std::int64_t image_id, std::int64_t version_id);
    // Steps back to the version promoted before the current one and returns it; Conflict when there is none.
    std::int64_t rollback(std::int64_t image_id);
    // Every promotion of the image, oldest first, including rolled-back ones.
    std::vector<Promotion> promotion_history(std::int64_t image_id);

  private:
    // The live (not rolled back) promotions, newest first.
    std::vector<std::int64_t> live_promotion_versions(std::int64_t image_id, int limit);
    Database& db_;
};

}  // namespace bootherd::db
