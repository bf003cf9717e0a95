#include "db/api_tokens_repo.hpp"

#include "db/clock.hpp"
#include "db/error.hpp"

namespace bootherd::db {
namespace {

constexpr std::string_view token_columns =
    "SELECT t.id, t.user_id, u.name, t.name, t.created_at, t.last_used_at, t.scope, t.expires_at FROM "
    "api_tokens t "
    "JOIN users u ON u.id = t.user_id ";

ApiToken read_token(const Statement& row) {
    return ApiToken{row.int64(0), row.int64(1),     row.text(2), row.text(3),
                    row.int64(4), row.opt_int64(5), row.text(6), row.opt_int64(7)};
}

}  // namespace

ApiToken ApiTokensRepo::create(std::int64_t user_id, std::string_view name, std::string_view token_hash,
                               std::string_view scope, std::optional<std::int64_t> expires_at) {
    if (name.empty() || name.size() > 100) throw InvalidArgument("name", "must be 1-100 characters");
    if (scope != kTokenScopeAdmin && scope != kTokenScopeRead)
        throw InvalidArgument("scope", "must be \"admin\" or \"read\"");
    auto insert = db_.prepare(
        "INSERT INTO api_tokens (user_id, name, token_hash, created_at, scope, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?) RETURNING id");
    insert->bind_all(user_id, name, token_hash, now_ms(), scope, expires_at);
    const auto id = insert->insert_returning_id();
    auto query = db_.prepare(std::string(token_columns) + "WHERE t.id = ?");
    query->bind_all(id);
    query->step();
    return read_token(*query);
}

std::optional<ApiToken> ApiTokensRepo::find_by_hash(std::string_view token_hash) {
    auto query = db_.prepare(std::string(token_columns) + "WHERE t.token_hash = ?");
    query->bind_all(token_hash);
    if (!query->step()) return std::nullopt;
    return read_token(*query);
}

std::vector<ApiToken> ApiTokensRepo::list() {
    auto query = db_.prepare(std::string(token_columns) + "ORDER BY t.id");
    std::vector<ApiToken> tokens;
    while (query->step())
        tokens.push_back(read_token(*query));
    return tokens;
}

bool ApiTokensRepo::remove(std::int64_t id) {
    auto erase = db_.prepare("DELETE FROM api_tokens WHERE id = ?");
    erase->bind_all(id);
    erase->run();
    return db_.changes() > 0;
}

void ApiTokensRepo::touch(std::int64_t id, std::int64_t at_ms) {
    auto update = db_.prepare("UPDATE api_tokens SET last_used_at = ? WHERE id = ?");
    update->bind_all(at_ms, id);
    update->run();
}

}  // namespace bootherd::db
