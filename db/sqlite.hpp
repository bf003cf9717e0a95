#pragma once
// Thin RAII wrappers over the SQLite C API: a connection, prepared statements with typed bind/column,
// and a transaction that rolls back unless committed. Every failure throws db::SqliteError.
#include <sqlite3.h>

#include <concepts>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "db/error.hpp"

namespace bootherd::db::sqlite {

class Statement {
  public:
    Statement(sqlite3* db, std::string_view sql);
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    // Parameters are 1-based, as in SQLite.
    void bind(int index, std::nullopt_t);
    void bind(int index, std::int64_t value);
    void bind(int index, double value);
    void bind(int index, std::string_view value);
    void bind(int index, bool value) { bind(index, std::int64_t{value ? 1 : 0}); }
    void bind(int index, const char* value) { bind(index, std::string_view(value)); }
    void bind(int index, const std::string& value) { bind(index, std::string_view(value)); }
    template <std::integral T>
    requires(!std::same_as<T, bool> && !std::same_as<T, std::int64_t>) void bind(int index, T value) {
        bind(index, static_cast<std::int64_t>(value));
    }
    template <class T>
    void bind(int index, const std::optional<T>& value) {
        if (value)
            bind(index, *value);
        else
            bind(index, std::nullopt);
    }

    // Binds the arguments to parameters 1..N.
    template <class... Args>
    Statement& bind_all(const Args&... args) {
        int index = 0;
        (bind(++index, args), ...);
        return *this;
    }

    // Advances to the next row; false once the statement is done.
    bool step();
    // Runs a statement that returns no rows (INSERT/UPDATE/DELETE).
    void run();
    void reset() noexcept;

    bool is_null(int column) const;
    std::int64_t int64(int column) const;
    double real(int column) const;
    std::string text(int column) const;
    bool boolean(int column) const { return int64(column) != 0; }
    std::optional<std::int64_t> opt_int64(int column) const;
    std::optional<std::string> opt_text(int column) const;

  private:
    void check_bind(int rc, int index) const;
    sqlite3_stmt* stmt_ = nullptr;
};

class Database;

// A statement from the connection's cache, reset (bindings cleared) when this handle goes away so that no
// read snapshot stays open between uses.
class CachedStatement {
  public:
    explicit CachedStatement(Statement& statement, bool& in_use) : statement_(&statement), in_use_(&in_use) {}
    CachedStatement(CachedStatement&& other) noexcept
        : statement_(std::exchange(other.statement_, nullptr)),
          in_use_(std::exchange(other.in_use_, nullptr)) {}
    CachedStatement(const CachedStatement&) = delete;
    CachedStatement& operator=(const CachedStatement&) = delete;
    CachedStatement& operator=(CachedStatement&&) = delete;
    ~CachedStatement();

    Statement* operator->() const noexcept { return statement_; }
    Statement& operator*() const noexcept { return *statement_; }

  private:
    Statement* statement_;
    bool* in_use_;
};

class Database {
  public:
    // Opens (creating if needed) a database file; ":memory:" gives a private in-memory database.
    static Database open(const std::string& path);

    Database(Database&&) noexcept = default;
    Database& operator=(Database&&) noexcept = default;
    ~Database() = default;

    sqlite3* handle() const noexcept { return db_.get(); }

    // Runs one or more SQL statements that return no rows.
    void exec(std::string_view sql);
    // A prepared statement compiled once per connection and reused; the SQL text is the cache key.
    CachedStatement prepare(std::string_view sql);
    // A one-off statement (dynamic SQL such as filtered listings).
    Statement prepare_uncached(std::string_view sql) { return Statement(handle(), sql); }

    std::int64_t last_insert_rowid() const noexcept;
    int changes() const noexcept;
    bool in_transaction() const noexcept;

  private:
    struct Closer {
        void operator()(sqlite3* db) const noexcept;
    };
    struct Cached {
        Statement statement;
        bool in_use = false;
    };
    explicit Database(sqlite3* db) : db_(db) {}

    // Declared after db_ so that statements are finalized before the connection closes.
    std::unique_ptr<sqlite3, Closer> db_;
    std::map<std::string, Cached, std::less<>> cache_;
};

// BEGIN IMMEDIATE on construction (takes the write lock up front, so busy_timeout applies instead of a
// deadlock on a read-to-write upgrade); ROLLBACK on destruction unless commit() was called. Inside an
// enclosing transaction it becomes a SAVEPOINT, so operations compose.
class Transaction {
  public:
    explicit Transaction(Database& db);
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();
    void commit();

  private:
    Database& db_;
    bool nested_;
    bool done_ = false;
};

[[noreturn]] void throw_error(sqlite3* db, int rc, std::string_view context);

}  // namespace bootherd::db::sqlite
