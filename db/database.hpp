#pragma once
// The catalog's connection, backend-neutral: a thin RAII API (connection, prepared statements with typed
// bind/column, a transaction that rolls back unless committed) over SQLite or PostgreSQL.
//
// SQL is written once for both: `?` and `?N` placeholders (PostgreSQL gets them as $N), RETURNING instead of
// last-insert-rowid, and only functions both engines know (the PostgreSQL baseline schema adds json_valid and
// instr, and a case-insensitive collation named nocase). Every failure throws db::DatabaseError; a lost
// PostgreSQL server throws db::CatalogUnavailable, and the connection is re-established by the next use
// outside a transaction.
#include <concepts>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "db/error.hpp"

struct sqlite3;

namespace bootherd::db {

enum class Backend { sqlite, postgres };

// A LIMIT value where a negative limit means none (PostgreSQL refuses a negative LIMIT).
constexpr std::int64_t sql_limit(std::int64_t limit) noexcept {
    return limit < 0 ? std::numeric_limits<std::int64_t>::max() : limit;
}

// The type a parameter is bound as; a NULL keeps the type of the C++ value it stands for, so that PostgreSQL
// can prepare `? IS NULL OR column = ?` without guessing.
enum class ValueType { unknown, integer, real, text };

template <class T>
constexpr ValueType value_type_of() noexcept {
    if constexpr (std::integral<T>)
        return ValueType::integer;
    else if constexpr (std::floating_point<T>)
        return ValueType::real;
    else if constexpr (std::convertible_to<T, std::string_view>)
        return ValueType::text;
    else
        return ValueType::unknown;
}

// What a backend implements; repositories only see Statement and Database below.
class StatementBackend {
  public:
    virtual ~StatementBackend() = default;
    virtual void bind_null(int index, ValueType type) = 0;
    virtual void bind_int64(int index, std::int64_t value) = 0;
    virtual void bind_real(int index, double value) = 0;
    virtual void bind_text(int index, std::string_view value) = 0;
    virtual bool step() = 0;
    virtual void reset() noexcept = 0;
    virtual bool is_null(int column) const = 0;
    virtual std::int64_t int64(int column) const = 0;
    virtual double real(int column) const = 0;
    virtual std::string text(int column) const = 0;
};

class ConnectionBackend {
  public:
    virtual ~ConnectionBackend() = default;
    virtual Backend backend() const noexcept = 0;
    virtual void exec(std::string_view sql) = 0;
    // `cached`: the statement will be reused (kept prepared on the server); otherwise it runs once.
    virtual std::unique_ptr<StatementBackend> prepare(std::string_view sql, bool cached) = 0;
    virtual std::int64_t changes() const noexcept = 0;
    virtual bool in_transaction() const noexcept = 0;
    // Opens the outermost write transaction, serialized against every other writer of the catalog.
    virtual void begin_write() = 0;
    // Called before a use outside any transaction: re-establishes a lost connection (PostgreSQL).
    virtual void ensure_connected() = 0;
    virtual void rollback_quietly(bool nested) noexcept = 0;
    // The SQLite handle (online backup, pragmas); nullptr for other backends.
    virtual sqlite3* sqlite_handle() const noexcept { return nullptr; }
};

class Statement {
  public:
    explicit Statement(std::unique_ptr<StatementBackend> backend) : backend_(std::move(backend)) {}

    // Parameters are 1-based, as in SQL.
    void bind(int index, std::nullopt_t) { backend_->bind_null(index, ValueType::unknown); }
    void bind(int index, std::int64_t value) { backend_->bind_int64(index, value); }
    void bind(int index, double value) { backend_->bind_real(index, value); }
    void bind(int index, std::string_view value) { backend_->bind_text(index, value); }
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
            backend_->bind_null(index, value_type_of<T>());
    }

    // Binds the arguments to parameters 1..N.
    template <class... Args>
    Statement& bind_all(const Args&... args) {
        int index = 0;
        (bind(++index, args), ...);
        return *this;
    }

    // Advances to the next row; false once the statement is done.
    bool step() { return backend_->step(); }
    // Runs a statement that returns no rows (INSERT/UPDATE/DELETE).
    void run() {
        while (step()) {
        }
    }
    // Runs an INSERT ... RETURNING id and gives that id.
    std::int64_t insert_returning_id();
    void reset() noexcept { backend_->reset(); }

    bool is_null(int column) const { return backend_->is_null(column); }
    std::int64_t int64(int column) const { return backend_->int64(column); }
    double real(int column) const { return backend_->real(column); }
    std::string text(int column) const { return backend_->text(column); }
    bool boolean(int column) const { return int64(column) != 0; }
    std::optional<std::int64_t> opt_int64(int column) const;
    std::optional<std::string> opt_text(int column) const;

  private:
    std::unique_ptr<StatementBackend> backend_;
};

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
    // A "postgresql://" or "postgres://" URI opens PostgreSQL; anything else is an SQLite file path
    // (created if needed; ":memory:" gives a private in-memory database).
    static Database open(const std::string& location);
    static bool is_postgres_location(std::string_view location) noexcept;

    explicit Database(std::unique_ptr<ConnectionBackend> connection) : connection_(std::move(connection)) {}
    Database(Database&&) noexcept = default;
    Database& operator=(Database&&) noexcept = default;
    ~Database() = default;

    Backend backend() const noexcept { return connection_->backend(); }
    sqlite3* sqlite_handle() const noexcept { return connection_->sqlite_handle(); }

    // Runs one or more SQL statements that return no rows (no placeholders).
    void exec(std::string_view sql);
    // A prepared statement compiled once per connection and reused; the SQL text is the cache key.
    CachedStatement prepare(std::string_view sql);
    // A one-off statement (dynamic SQL such as filtered listings).
    Statement prepare_uncached(std::string_view sql);

    // Rows changed by the last INSERT/UPDATE/DELETE run on this connection.
    std::int64_t changes() const noexcept { return connection_->changes(); }
    bool in_transaction() const noexcept { return connection_->in_transaction(); }

  private:
    friend class Transaction;
    struct Cached {
        Statement statement;
        bool in_use = false;
    };
    void use_outside_transaction();

    // Declared after connection_ so that statements are finalized before the connection closes.
    std::unique_ptr<ConnectionBackend> connection_;
    std::map<std::string, Cached, std::less<>> cache_;
    int open_transactions_ = 0;
};

// Takes the catalog's write lock on construction (SQLite: BEGIN IMMEDIATE, so busy_timeout applies instead
// of a deadlock on a read-to-write upgrade; PostgreSQL: BEGIN plus a transaction-scoped advisory lock, so
// read-then-write transactions serialize across servers the same way); ROLLBACK on destruction unless
// commit() was called. Inside an enclosing transaction it becomes a SAVEPOINT, so operations compose.
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

}  // namespace bootherd::db
