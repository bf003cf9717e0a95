#include "db/sqlite_backend.hpp"

#include <sqlite3.h>

#include <utility>

namespace bootherd::db {
namespace {

Violation violation_of(int extended_code) {
    switch (extended_code) {
        case SQLITE_CONSTRAINT_UNIQUE:
            return Violation::unique;
        case SQLITE_CONSTRAINT_PRIMARYKEY:
            return Violation::primary_key;
        case SQLITE_CONSTRAINT_FOREIGNKEY:
            return Violation::foreign_key;
        case SQLITE_CONSTRAINT_NOTNULL:
            return Violation::not_null;
        case SQLITE_CONSTRAINT_CHECK:
            return Violation::check;
        default:
            return Violation::none;
    }
}

[[noreturn]] void throw_error(sqlite3* db, int rc, std::string_view context) {
    std::string message(context);
    message += ": ";
    message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    throw DatabaseError(violation_of(db != nullptr ? sqlite3_extended_errcode(db) : rc), message);
}

class SqliteStatement final : public StatementBackend {
  public:
    SqliteStatement(sqlite3* db, std::string_view sql, bool cached) {
        const char* tail = nullptr;
        const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                          cached ? SQLITE_PREPARE_PERSISTENT : 0, &stmt_, &tail);
        if (rc != SQLITE_OK) throw_error(db, rc, "prepare '" + std::string(sql) + "'");
        if (stmt_ == nullptr) throw DatabaseError(Violation::none, "prepare: empty SQL statement");
    }
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;
    ~SqliteStatement() override { sqlite3_finalize(stmt_); }

    void bind_null(int index, ValueType) override { check_bind(sqlite3_bind_null(stmt_, index), index); }
    void bind_int64(int index, std::int64_t value) override {
        check_bind(sqlite3_bind_int64(stmt_, index, value), index);
    }
    void bind_real(int index, double value) override {
        check_bind(sqlite3_bind_double(stmt_, index, value), index);
    }
    void bind_text(int index, std::string_view value) override {
        // SQLite binds a null pointer as NULL; an empty string_view may carry one but means "".
        if (value.data() == nullptr) value = "";
        check_bind(
            sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
            index);
    }

    bool step() override {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        throw_error(sqlite3_db_handle(stmt_), rc, "step");
    }
    void reset() noexcept override {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }

    bool is_null(int column) const override { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
    std::int64_t int64(int column) const override { return sqlite3_column_int64(stmt_, column); }
    double real(int column) const override { return sqlite3_column_double(stmt_, column); }
    std::string text(int column) const override {
        const auto* data = sqlite3_column_text(stmt_, column);
        const int size = sqlite3_column_bytes(stmt_, column);
        if (data == nullptr) return {};
        return std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size));
    }

  private:
    void check_bind(int rc, int index) const {
        if (rc != SQLITE_OK)
            throw_error(sqlite3_db_handle(stmt_), rc, "bind parameter " + std::to_string(index));
    }
    sqlite3_stmt* stmt_ = nullptr;
};

class SqliteConnection final : public ConnectionBackend {
  public:
    explicit SqliteConnection(sqlite3* db) : db_(db) {}
    SqliteConnection(const SqliteConnection&) = delete;
    SqliteConnection& operator=(const SqliteConnection&) = delete;
    ~SqliteConnection() override { sqlite3_close_v2(db_); }

    Backend backend() const noexcept override { return Backend::sqlite; }
    sqlite3* sqlite_handle() const noexcept override { return db_; }

    void exec(std::string_view sql) override {
        char* error = nullptr;
        const std::string text(sql);
        const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
        if (rc != SQLITE_OK) {
            std::string message = error != nullptr ? error : sqlite3_errstr(rc);
            sqlite3_free(error);
            throw DatabaseError(violation_of(sqlite3_extended_errcode(db_)), "exec: " + message);
        }
    }
    std::unique_ptr<StatementBackend> prepare(std::string_view sql, bool cached) override {
        return std::make_unique<SqliteStatement>(db_, sql, cached);
    }
    std::int64_t changes() const noexcept override { return sqlite3_changes64(db_); }
    bool in_transaction() const noexcept override { return sqlite3_get_autocommit(db_) == 0; }
    void begin_write() override { exec("BEGIN IMMEDIATE"); }
    void ensure_connected() override {}
    void rollback_quietly(bool nested) noexcept override {
        // Failure here means SQLite already rolled the transaction back itself; nothing is left to undo.
        sqlite3_exec(db_, nested ? "ROLLBACK TO nested; RELEASE nested" : "ROLLBACK", nullptr, nullptr,
                     nullptr);
    }

  private:
    sqlite3* db_;
};

}  // namespace

std::unique_ptr<ConnectionBackend> open_sqlite(const std::string& path) {
    sqlite3* raw = nullptr;
    // FULLMUTEX: serialized mode, so the connection itself is safe to touch from any thread; the Catalog
    // still serializes whole operations with its own mutex.
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    auto connection = std::make_unique<SqliteConnection>(raw);
    if (rc != SQLITE_OK) throw_error(raw, rc, "open " + path);
    sqlite3_extended_result_codes(raw, 1);
    return connection;
}

}  // namespace bootherd::db
