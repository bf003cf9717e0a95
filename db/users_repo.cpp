#include "db/users_repo.hpp"

#include "db/clock.hpp"
#include "db/error.hpp"
#include "db/identifiers.hpp"

namespace bootherd::db {
namespace {

constexpr std::string_view user_columns = "SELECT id, name, password_hash, created_at FROM users ";

User read_user(const Statement& row) {
    return User{row.int64(0), row.text(1), row.text(2), row.int64(3)};
}

}  // namespace

User UsersRepo::create(std::string_view name, std::string_view password_hash) {
    require_valid_name("username", name);
    if (password_hash.empty()) throw InvalidArgument("password", "must not be empty");
    Transaction tx(db_);
    if (find_by_name(name)) throw Conflict("username", "a user named '" + std::string(name) + "' exists");
    auto insert =
        db_.prepare("INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?) RETURNING id");
    insert->bind_all(name, password_hash, now_ms());
    const auto id = insert->insert_returning_id();
    tx.commit();
    return *find(id);
}

std::optional<User> UsersRepo::find(std::int64_t id) {
    auto query = db_.prepare(std::string(user_columns) + "WHERE id = ?");
    query->bind_all(id);
    if (!query->step()) return std::nullopt;
    return read_user(*query);
}

std::optional<User> UsersRepo::find_by_name(std::string_view name) {
    auto query = db_.prepare(std::string(user_columns) + "WHERE name = ?");
    query->bind_all(name);
    if (!query->step()) return std::nullopt;
    return read_user(*query);
}

std::vector<User> UsersRepo::list() {
    auto query = db_.prepare(std::string(user_columns) + "ORDER BY name");
    std::vector<User> users;
    while (query->step())
        users.push_back(read_user(*query));
    return users;
}

void UsersRepo::set_password_hash(std::int64_t id, std::string_view password_hash) {
    if (password_hash.empty()) throw InvalidArgument("password", "must not be empty");
    auto update = db_.prepare("UPDATE users SET password_hash = ? WHERE id = ?");
    update->bind_all(password_hash, id);
    update->run();
    if (db_.changes() == 0) throw NotFound("user " + std::to_string(id) + " does not exist");
}

std::map<std::int64_t, std::int64_t> UsersRepo::last_logins() {
    auto query = db_.prepare(
        "SELECT user_id, MAX(at) FROM ("
        "SELECT user_id, created_at AS at FROM web_sessions UNION ALL "
        "SELECT u.id, a.at FROM audit a JOIN users u ON u.name = a.actor COLLATE NOCASE WHERE a.action = "
        "'user.login') "
        "AS logins "
        "GROUP BY user_id");
    std::map<std::int64_t, std::int64_t> last;
    while (query->step())
        last.emplace(query->int64(0), query->int64(1));
    return last;
}

}  // namespace bootherd::db
