#pragma once
// Operator accounts of the web service. The password hash is an opaque string produced by the web layer.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.hpp"

namespace bootherd::db {

struct User {
    std::int64_t id = 0;
    std::string name{};
    std::string password_hash{};
    std::int64_t created_at = 0;
};

// Not thread-safe by itself: construct it on a Catalog::Session's database, which holds the catalog lock.
class UsersRepo {
  public:
    explicit UsersRepo(Database& db) : db_(db) {}

    // InvalidArgument for a bad name, Conflict when it is taken.
    User create(std::string_view name, std::string_view password_hash);
    std::optional<User> find(std::int64_t id);
    std::optional<User> find_by_name(std::string_view name);
    std::vector<User> list();
    // When each user last logged in (newest session or audited "user.login"), by user id; users who never
    // did are absent.
    std::map<std::int64_t, std::int64_t> last_logins();
    // NotFound when there is no such user.
    void set_password_hash(std::int64_t id, std::string_view password_hash);

  private:
    Database& db_;
};

}  // namespace bootherd::db
