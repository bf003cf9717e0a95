#include "imagestore/store/store_support.hpp"

#include <algorithm>
#include <chrono>

#include "db/credentials.hpp"
#include "db/error.hpp"
#include "imagestore/image_error.hpp"
#include "imagestore/store/catalog_targets.hpp"
#include "imagestore/store/image_store.hpp"

namespace bootherd::imagestore::store::support {
namespace fs = std::filesystem;

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string in_quotes(std::string_view text) {
    return "'" + std::string(text) + "'";
}

std::int64_t next_version_number(db::Catalog::Session& session, std::int64_t image_id) {
    std::int64_t highest = 0;
    for (const auto& v : session.versions().list(image_id))
        highest = std::max(highest, v.number);
    return highest + 1;
}

std::string version_path(std::string_view image, std::int64_t number) {
    return "images/" + std::string(image) + "/v" + std::to_string(number) + ".vhdx";
}

void make_read_only(const fs::path& file) {
    fs::permissions(file, fs::perms::owner_read, fs::perm_options::replace);
}

void give_credentials(db::Catalog::Session& session, std::int64_t draft_id) {
    session.versions().set_chap(draft_id, db::random_credential(db::chap_user_length),
                                db::random_credential(db::chap_secret_length));
}

std::unique_ptr<ImageFile> lock_draft(const fs::path& file, std::string_view image, std::string_view action,
                                      const std::optional<db::Node>& maintainer) {
    if (!fs::exists(file)) return nullptr;
    auto locked = std::make_unique<ImageFile>(file.string(), ImageFile::Access::read_write);
    if (locked->try_lock_exclusive()) return locked;
    const std::string why = " (cannot " + std::string(action) + " while its target " + draft_iqn(image) +
                            " is open for writing, by a running `bootherd serve`, or by another command)";
    if (maintainer)
        throw StoreError("node " + maintainer->name + " is still logged in to the draft of image " +
                         in_quotes(image) + ": shut it down first" + why);
    throw StoreError("a machine is still logged in to the draft of image " + in_quotes(image) +
                     ": log it out first" + why);
}

bool open_for_writing(const fs::path& file) {
    try {
        ImageFile probe(file.string(), ImageFile::Access::read_write);
        return !probe.try_lock_exclusive();
    } catch (const ImageError&) {
        return false;
    }
}

void refuse_during_rollout(db::Catalog::Session& session, const db::Image& image, std::string_view what) {
    const auto rollout = session.rollouts().active_for_image(image.id);
    if (!rollout) return;
    throw db::Conflict(
        "image", "rollout " + std::to_string(rollout->id) + " (v" + std::to_string(rollout->from_number) +
                     " -> v" + std::to_string(rollout->to_number) + ") is " +
                     std::string(db::to_string(rollout->state)) + " on image " + image.name + ": " +
                     std::string(what) + " is refused until it ends (bootherd rollout abort " +
                     std::to_string(rollout->id) + ")");
}

}  // namespace bootherd::imagestore::store::support
