#include "db/database.hpp"

#include "db/postgres_backend.hpp"
#include "db/sqlite_backend.hpp"

namespace bootherd::db {

std::int64_t Statement::insert_returning_id() {
    if (!step()) throw Error("internal: INSERT ... RETURNING gave no row");
    const std::int64_t id = int64(0);
    run();
    return id;
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

bool Database::is_postgres_location(std::string_view location) noexcept {
    return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

Database Database::open(const std::string& location) {
    if (is_postgres_location(location)) return Database(open_postgres(location));
    return Database(open_sqlite(location));
}

void Database::use_outside_transaction() {
    if (open_transactions_ == 0) connection_->ensure_connected();
}

void Database::exec(std::string_view sql) {
    use_outside_transaction();
    connection_->exec(sql);
}

CachedStatement Database::prepare(std::string_view sql) {
    use_outside_transaction();
    auto it = cache_.find(sql);
    if (it == cache_.end())
        it = cache_.emplace(std::string(sql), Cached{Statement(connection_->prepare(sql, true))}).first;
    if (it->second.in_use) {
        throw Error("internal: cached statement used re-entrantly: " + std::string(sql));
    }
    it->second.in_use = true;
    return CachedStatement(it->second.statement, it->second.in_use);
}

Statement Database::prepare_uncached(std::string_view sql) {
    use_outside_transaction();
    return Statement(connection_->prepare(sql, false));
}

Transaction::Transaction(Database& db) : db_(db), nested_(db.open_transactions_ > 0 || db.in_transaction()) {
    if (nested_) {
        db_.connection_->exec("SAVEPOINT nested");
    } else {
        db_.connection_->ensure_connected();
        db_.connection_->begin_write();
    }
    ++db_.open_transactions_;
}

Transaction::~Transaction() {
    --db_.open_transactions_;
    if (done_) return;
    db_.connection_->rollback_quietly(nested_);
}

void Transaction::commit() {
    db_.connection_->exec(nested_ ? "RELEASE nested" : "COMMIT");
    done_ = true;
}

}  // namespace bootherd::db
