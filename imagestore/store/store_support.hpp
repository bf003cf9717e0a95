#pragma once
// What the parts of ImageStore (image_store.cpp, image_store_drafts.cpp, image_store_sweep.cpp) share: file
// names, locks and checks. Internal to imagestore/store.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/catalog.hpp"
#include "imagestore/image_file.hpp"

namespace bootherd::imagestore::store::support {

std::int64_t now_ms();
std::string in_quotes(std::string_view text);
std::int64_t next_version_number(db::Catalog::Session& session, std::int64_t image_id);
// "images/<image>/v<number>.vhdx", relative to the data directory.
std::string version_path(std::string_view image, std::int64_t number);
void make_read_only(const std::filesystem::path& file);
// A draft's own CHAP credentials: only who was told them (`image show`, the API) can log in to it.
void give_credentials(db::Catalog::Session& session, std::int64_t draft_id);
// Holds the draft's write lock (the one a read-write VhdxFile takes), so a running `bootherd serve` cannot
// open the draft meanwhile; refuses when it has it open already: a served draft is open exactly while some
// session is logged in to its target. `maintainer`: the draft's maintenance machine, the only initiator its
// target admits. A missing file holds nothing.
std::unique_ptr<ImageFile> lock_draft(const std::filesystem::path& file, std::string_view image,
                                      std::string_view action, const std::optional<db::Node>& maintainer);
// True when some open file description (a served chain, in this process or another) holds the file's write
// lock. A missing file is not in use.
bool open_for_writing(const std::filesystem::path& file);
// While a rollout is active it decides which version the image's machines boot and promotes at its end.
void refuse_during_rollout(db::Catalog::Session& session, const db::Image& image, std::string_view what);

}  // namespace bootherd::imagestore::store::support
