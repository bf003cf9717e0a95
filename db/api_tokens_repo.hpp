#pragma once
// API tokens for scripts, keyed by the SHA-256 of the token (the token itself is shown once, never stored).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.hpp"

namespace bootherd::db {

struct ApiToken {
    std::int64_t id = 0;
    std::int64_t user_id = 0;
    std::string user_name{};
    std::string name{};
    std::int64_t created_at = 0;
    std::optional<std::int64_t> last_used_at{};
    std::string scope = "admin";               // "admin": everything; "read": GET and HEAD only
    std::optional<std::int64_t> expires_at{};  // ms since the epoch; nullopt: never
};

inline constexpr std::string_view kTokenScopeAdmin = "admin";
inline constexpr std::string_view kTokenScopeRead = "read";

// Not thread-safe by itself: construct it on a Catalog::Session's database, which holds the catalog lock.
class ApiTokensRepo {
  public:
    explicit ApiTokensRepo(Database& db) : db_(db) {}

    // InvalidArgument when the name is empty or longer than 100 characters, or the scope is unknown.
    ApiToken create(std::int64_t user_id, std::string_view name, std::string_view token_hash,
                    std::string_view scope = kTokenScopeAdmin, std::optional<std::int64_t> expires_at = {});
    std::optional<ApiToken> find_by_hash(std::string_view token_hash);
    std::vector<ApiToken> list();
    // False when there was no such token.
    bool remove(std::int64_t id);
    void touch(std::int64_t id, std::int64_t at_ms);

  private:
    Database& db_;
};

}  // namespace bootherd::db
