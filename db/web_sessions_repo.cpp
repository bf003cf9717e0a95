#include "db/web_sessions_repo.hpp"

#include "db/clock.hpp"

namespace bootherd::db {

void WebSessionsRepo::create(std::string_view token_hash, std::int64_t user_id, std::string_view csrf_token,
                             std::int64_t expires_at) {
    auto insert = db_.prepare(
        "INSERT INTO web_sessions (token_hash, user_id, csrf_token, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?)");
    insert->bind_all(token_hash, user_id, csrf_token, now_ms(), expires_at);
    insert->run();
}

std::optional<WebSession> WebSessionsRepo::find_live(std::string_view token_hash, std::int64_t now) {
    auto query = db_.prepare(
        "SELECT s.token_hash, s.user_id, u.name, s.csrf_token, s.created_at, s.expires_at "
        "FROM web_sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ?");
    query->bind_all(token_hash, now);
    if (!query->step()) return std::nullopt;
    return WebSession{query->text(0), query->int64(1), query->text(2),
                      query->text(3), query->int64(4), query->int64(5)};
}

void WebSessionsRepo::remove(std::string_view token_hash) {
    auto erase = db_.prepare("DELETE FROM web_sessions WHERE token_hash = ?");
    erase->bind_all(token_hash);
    erase->run();
}

void WebSessionsRepo::remove_for_user(std::int64_t user_id) {
    auto erase = db_.prepare("DELETE FROM web_sessions WHERE user_id = ?");
    erase->bind_all(user_id);
    erase->run();
}

std::int64_t WebSessionsRepo::prune_expired(std::int64_t now) {
    auto erase = db_.prepare("DELETE FROM web_sessions WHERE expires_at <= ?");
    erase->bind_all(now);
    erase->run();
    return db_.changes();
}

}  // namespace bootherd::db
