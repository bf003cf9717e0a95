#pragma once
// Browser sessions of the web service, keyed by the SHA-256 of the session cookie, with their CSRF token.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "db/database.hpp"

namespace bootherd::db {

struct WebSession {
    std::string token_hash{};
    std::int64_t user_id = 0;
    std::string user_name{};
    std::string csrf_token{};
    std::int64_t created_at = 0;
    std::int64_t expires_at = 0;
};

// Not thread-safe by itself: construct it on a Catalog::Session's database, which holds the catalog lock.
class WebSessionsRepo {
  public:
    explicit WebSessionsRepo(Database& db) : db_(db) {}

    void create(std::string_view token_hash, std::int64_t user_id, std::string_view csrf_token,
                std::int64_t expires_at);
    // The session if it exists and has not expired at `now`.
    std::optional<WebSession> find_live(std::string_view token_hash, std::int64_t now);
    void remove(std::string_view token_hash);
    // Every session of the user (after a password change).
    void remove_for_user(std::int64_t user_id);
    std::int64_t prune_expired(std::int64_t now);

  private:
    Database& db_;
};

}  // namespace bootherd::db
