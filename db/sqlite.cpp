#include "db/sqlite.hpp"

#include <utility>

namespace bootherd::db::sqlite {

void throw_error(sqlite3* db, int rc, std::string_view context) {
    std::string message(context);
    message += ": ";
    message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    throw SqliteError(db != nullptr ? sqlite3_extended_errcode(db) : rc, message);
}

Statement::Statement(sqlite3* db, std::string_view sql) {
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                      &stmt_, &tail);
    if (rc != SQLITE_OK) throw_error(db, rc, "prepare '" + std::string(sql) + "'");
    if (stmt_ == nullptr) throw SqliteError(SQLITE_MISUSE, "prepare: empty SQL statement");
}

Statement::Statement(Statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
    if (this != &other) {
        sqlite3_finalize(stmt_);
        stmt_ = std::exchange(other.stmt_, nullptr);
    }
    return *this;
}

Statement::~Statement() {
    sqlite3_finalize(stmt_);
}

void Statement::check_bind(int rc, int index) const {
    if (rc != SQLITE_OK) throw_error(sqlite3_db_handle(stmt_), rc, "bind parameter " + std::to_string(index));
}

void Statement::bind(int index, std::nullopt_t) {
    check_bind(sqlite3_bind_null(stmt_, index), index);
}

void Statement::bind(int index, std::int64_t value) {
    check_bind(sqlite3_bind_int64(stmt_, index, value), index);
}

void Statement::bind(int index, double value) {
    check_bind(sqlite3_bind_double(stmt_, index, value), index);
}

void Statement::bind(int index, std::string_view value) {
    // SQLite binds a null pointer as NULL; an empty string_view may carry one but means "".
    if (value.data() == nullptr) value = "";
    check_bind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
               index);
}

bool Statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw_error(sqlite3_db_handle(stmt_), rc, "step");
}

void Statement::run() {
    while (step()) {
    }
}

void Statement::reset() noexcept {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Statement::int64(int column) const {
    return sqlite3_column_int64(stmt_, column);
}

double Statement::real(int column) const {
    return sqlite3_column_double(stmt_, column);
}

std::string Statement::text(int column) const {
    const auto* data = sqlite3_column_text(stmt_, column);
    const int size = sqlite3_column_bytes(stmt_, column);
    if (data == nullptr) return {};
    return std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size));
}

std::optional<std::int64_t> Statement::opt_int64(int column) const {
    if (is_null(column)) return std::nullopt;
    return int64(column);
}

std::optional<std::string> Statement::opt_text(int column) const {
    if (is_null(column)) return std::nullopt;
    return text(column);
}

CachedStatement::~CachedStatement() {
    if (statement_ == nullptr) return;
    statement_->reset();
    *in_use_ = false;
}

void Database::Closer::operator()(sqlite3* db) const noexcept {
    sqlite3_close_v2(db);
}

Database Database::open(const std::string& path) {
    sqlite3* raw = nullptr;
    // FULLMUTEX: serialized mode, so the connection itself is safe to touch from any thread; the Catalog
    // still serializes whole operations with its own mutex.
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    Database db(raw);
    if (rc != SQLITE_OK) throw_error(raw, rc, "open " + path);
    sqlite3_extended_result_codes(raw, 1);
    return db;
}

void Database::exec(std::string_view sql) {
    char* error = nullptr;
    const std::string text(sql);
    const int rc = sqlite3_exec(handle(), text.c_str(), nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
        std::string message = error != nullptr ? error : sqlite3_errstr(rc);
        sqlite3_free(error);
        throw SqliteError(sqlite3_extended_errcode(handle()), "exec: " + message);
    }
}

CachedStatement Database::prepare(std::string_view sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) it = cache_.emplace(std::string(sql), Cached{Statement(handle(), sql)}).first;
    if (it->second.in_use) {
        throw Error("internal: cached statement used re-entrantly: " + std::string(sql));
    }
    it->second.in_use = true;
    return CachedStatement(it->second.statement, it->second.in_use);
}

std::int64_t Database::last_insert_rowid() const noexcept {
    return sqlite3_last_insert_rowid(handle());
}

int Database::changes() const noexcept {
    return sqlite3_changes(handle());
}

bool Database::in_transaction() const noexcept {
    return sqlite3_get_autocommit(handle()) == 0;
}

Transaction::Transaction(Database& db) : db_(db), nested_(db.in_transaction()) {
    db_.exec(nested_ ? "SAVEPOINT nested" : "BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
    if (done_) return;
    // Failure here means SQLite already rolled the transaction back itself; nothing is left to undo.
    const char* undo = nested_ ? "ROLLBACK TO nested; RELEASE nested" : "ROLLBACK";
    sqlite3_exec(db_.handle(), undo, nullptr, nullptr, nullptr);
}

void Transaction::commit() {
    db_.exec(nested_ ? "RELEASE nested" : "COMMIT");
    done_ = true;
}

}  // namespace bootherd::db::sqlite
