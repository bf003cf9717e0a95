#include "db/postgres_backend.hpp"

#include <libpq-fe.h>

#include <array>
#include <charconv>
#include <cstdlib>
#include <utility>
#include <vector>

namespace bootherd::db {
namespace {

// Type OIDs from PostgreSQL's pg_type catalog (stable across versions; the server headers are not needed).
constexpr Oid bool_oid = 16;
constexpr Oid int8_oid = 20;
constexpr Oid text_oid = 25;
constexpr Oid float8_oid = 701;

// Key of the transaction-scoped advisory lock every catalog write transaction takes ("bootherd" in ASCII).
constexpr std::string_view write_lock_sql = "SELECT pg_advisory_xact_lock(7093010483890188900)";

// Defaults a connection URI may override: a dead server is noticed within a minute rather than hours, and a
// writer waits for another server's transaction as long as SQLite's busy_timeout would.
constexpr std::array<std::pair<const char*, const char*>, 5> connection_defaults{{
    {"connect_timeout", "5"},
    {"keepalives_idle", "30"},
    {"keepalives_interval", "10"},
    {"keepalives_count", "3"},
    {"application_name", "bootherd"},
}};
constexpr std::string_view session_setup = "SET lock_timeout = '5s'; SET client_min_messages = warning";

struct ResultDeleter {
    void operator()(PGresult* result) const noexcept { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

Oid oid_of(ValueType type) {
    switch (type) {
        case ValueType::integer:
            return int8_oid;
        case ValueType::real:
            return float8_oid;
        case ValueType::text:
            return text_oid;
        case ValueType::unknown:
            return 0;
    }
    return 0;
}

Violation violation_of(const PGresult* result) {
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    const std::string_view code = state != nullptr ? state : "";
    if (code == "23505") {
        const char* name = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME);
        const std::string_view constraint = name != nullptr ? name : "";
        return constraint.ends_with("_pkey") ? Violation::primary_key : Violation::unique;
    }
    if (code == "23503") return Violation::foreign_key;
    if (code == "23502") return Violation::not_null;
    if (code == "23514") return Violation::check;
    return Violation::none;
}

// Class 08 (connection exception) and the server shutting down or starting up.
bool is_unavailable(std::string_view code) {
    return code.starts_with("08") || code == "57P01" || code == "57P02" || code == "57P03";
}

std::string trimmed(const char* message) {
    std::string text = message != nullptr ? message : "";
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.pop_back();
    return text;
}

}  // namespace

pg_conn* connect_postgres(const std::string& location) {
    std::vector<const char*> keys;
    std::vector<const char*> values;
    for (const auto& [key, value] : connection_defaults) {
        keys.push_back(key);
        values.push_back(value);
    }
    // Last, so that whatever the URI sets wins over the defaults above.
    keys.push_back("dbname");
    values.push_back(location.c_str());
    keys.push_back(nullptr);
    values.push_back(nullptr);
    PGconn* conn = PQconnectdbParams(keys.data(), values.data(), 1);
    if (conn == nullptr) throw CatalogUnavailable("catalog: out of memory connecting to PostgreSQL");
    if (PQstatus(conn) != CONNECTION_OK) {
        // libpq's message names host and port, never the password.
        const std::string message =
            "catalog " + describe_postgres(conn) + ": " + trimmed(PQerrorMessage(conn));
        PQfinish(conn);  // libpq returns a connection object even when it failed
        throw CatalogUnavailable(message);
    }
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    return conn;
}

std::string describe_postgres(const pg_conn* connection) {
    const char* host = PQhost(connection);
    const char* port = PQport(connection);
    const char* db = PQdb(connection);
    return std::string("postgresql://") + (host != nullptr ? host : "") + ":" +
           (port != nullptr ? port : "") + "/" + (db != nullptr ? db : "");
}

RewrittenSql to_dollar_placeholders(std::string_view sql) {
    RewrittenSql out;
    out.sql.reserve(sql.size() + 16);
    std::size_t i = 0;
    const auto copy_until = [&](std::size_t end) {
        end = std::min(end, sql.size());
        out.sql.append(sql.substr(i, end - i));
        i = end;
    };
    while (i < sql.size()) {
        const char c = sql[i];
        const char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
        if (c == '\'' || c == '"') {
            const std::size_t close = sql.find(c, i + 1);
            copy_until(close == std::string_view::npos ? sql.size() : close + 1);
        } else if (c == '-' && next == '-') {
            copy_until(sql.find('\n', i));
        } else if (c == '/' && next == '*') {
            const std::size_t close = sql.find("*/", i + 2);
            copy_until(close == std::string_view::npos ? sql.size() : close + 2);
        } else if (c == '?') {
            // As in SQLite: ?N is parameter N, a bare ? is one more than the highest so far.
            std::size_t end = i + 1;
            while (end < sql.size() && sql[end] >= '0' && sql[end] <= '9')
                ++end;
            int number = out.parameters + 1;
            if (end > i + 1) std::from_chars(sql.data() + i + 1, sql.data() + end, number);
            out.parameters = std::max(out.parameters, number);
            out.sql += '$';
            out.sql += std::to_string(number);
            i = end;
        } else {
            out.sql += c;
            ++i;
        }
    }
    return out;
}

class PostgresConnection;

class PostgresStatement final : public StatementBackend {
  public:
    PostgresStatement(PostgresConnection& connection, std::string_view sql, bool cached);
    PostgresStatement(const PostgresStatement&) = delete;
    PostgresStatement& operator=(const PostgresStatement&) = delete;
    ~PostgresStatement() override;

    void bind_null(int index, ValueType type) override { set(index, std::nullopt, oid_of(type)); }
    void bind_int64(int index, std::int64_t value) override { set(index, std::to_string(value), int8_oid); }
    void bind_real(int index, double value) override {
        std::array<char, 32> buffer{};
        const auto end = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value).ptr;
        set(index, std::string(buffer.data(), end), float8_oid);
    }
    void bind_text(int index, std::string_view value) override { set(index, std::string(value), text_oid); }

    bool step() override;
    void reset() noexcept override {
        result_.reset();
        row_ = -1;
        std::fill(values_.begin(), values_.end(), std::nullopt);
        std::fill(types_.begin(), types_.end(), Oid{0});
    }

    bool is_null(int column) const override { return PQgetisnull(current(), row_, column) != 0; }
    std::int64_t int64(int column) const override;
    double real(int column) const override;
    std::string text(int column) const override {
        return std::string(PQgetvalue(current(), row_, column),
                           static_cast<std::size_t>(PQgetlength(current(), row_, column)));
    }

  private:
    void set(int index, std::optional<std::string> value, Oid type);
    const PGresult* current() const;
    void execute();

    PostgresConnection& connection_;
    RewrittenSql sql_;
    bool cached_;
    std::vector<std::optional<std::string>> values_;
    std::vector<Oid> types_;
    // The server-side prepared statement (cached statements only): its name, the parameter types it was
    // prepared with, and the connection generation it belongs to (0: none).
    std::string name_;
    std::vector<Oid> prepared_types_;
    std::uint64_t prepared_generation_ = 0;
    Result result_;
    int row_ = -1;
};

class PostgresConnection final : public ConnectionBackend {
  public:
    explicit PostgresConnection(std::string location) : location_(std::move(location)) {
        try {
            connect();
        } catch (...) {
            PQfinish(conn_);  // connected, but the session setup failed; no destructor runs here
            throw;
        }
    }
    PostgresConnection(const PostgresConnection&) = delete;
    PostgresConnection& operator=(const PostgresConnection&) = delete;
    ~PostgresConnection() override { PQfinish(conn_); }

    Backend backend() const noexcept override { return Backend::postgres; }

    void exec(std::string_view sql) override { run(std::string(sql), "exec"); }
    std::unique_ptr<StatementBackend> prepare(std::string_view sql, bool cached) override {
        return std::make_unique<PostgresStatement>(*this, sql, cached);
    }
    std::int64_t changes() const noexcept override { return changes_; }
    bool in_transaction() const noexcept override {
        const auto status = PQtransactionStatus(conn_);
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
    }
    void begin_write() override {
        run("BEGIN", "begin");
        try {
            run(std::string(write_lock_sql), "catalog write lock");
        } catch (...) {
            rollback_quietly(false);  // not left inside a transaction nobody owns
            throw;
        }
    }
    void ensure_connected() override {
        if (PQstatus(conn_) != CONNECTION_OK) connect();
    }
    void rollback_quietly(bool nested) noexcept override {
        if (PQstatus(conn_) != CONNECTION_OK) return;
        PQclear(PQexec(conn_, nested ? "ROLLBACK TO nested; RELEASE nested" : "ROLLBACK"));
    }

    PGconn* handle() const noexcept { return conn_; }
    std::uint64_t generation() const noexcept { return generation_; }
    std::string next_statement_name() { return "bootherd_" + std::to_string(++statements_); }

    // Checks a result: a failure throws (CatalogUnavailable when the server is gone); a command's row count
    // becomes changes().
    Result check(PGresult* raw, std::string_view context) {
        Result result(raw);
        const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
            const char* rows = PQcmdTuples(result.get());
            if (rows != nullptr && *rows != '\0') changes_ = std::atoll(rows);
            return result;
        }
        const char* state = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
        if (PQstatus(conn_) != CONNECTION_OK || is_unavailable(state != nullptr ? state : "")) {
            throw CatalogUnavailable("catalog " + describe() + ": " + context_message(result.get(), context));
        }
        throw DatabaseError(violation_of(result.get()), context_message(result.get(), context));
    }

  private:
    void connect() {
        PQfinish(std::exchange(conn_, nullptr));
        conn_ = connect_postgres(location_);
        ++generation_;
        run(std::string(session_setup), "session setup");
    }

    void run(const std::string& sql, std::string_view context) { check(PQexec(conn_, sql.c_str()), context); }

    std::string describe() const { return describe_postgres(conn_); }

    std::string context_message(const PGresult* result, std::string_view context) const {
        const char* primary =
            result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
        return std::string(context) + ": " +
               (primary != nullptr ? std::string(primary) : trimmed(PQerrorMessage(conn_)));
    }

    std::string location_;
    PGconn* conn_ = nullptr;
    std::uint64_t generation_ = 0;
    std::uint64_t statements_ = 0;
    std::int64_t changes_ = 0;
};

PostgresStatement::PostgresStatement(PostgresConnection& connection, std::string_view sql, bool cached)
    : connection_(connection), sql_(to_dollar_placeholders(sql)), cached_(cached) {
    values_.resize(static_cast<std::size_t>(sql_.parameters));
    types_.resize(static_cast<std::size_t>(sql_.parameters));
}

PostgresStatement::~PostgresStatement() {
    if (prepared_generation_ == 0 || prepared_generation_ != connection_.generation()) return;
    if (PQstatus(connection_.handle()) != CONNECTION_OK) return;
    const std::string deallocate = "DEALLOCATE " + name_;
    PQclear(PQexec(connection_.handle(), deallocate.c_str()));
}

void PostgresStatement::set(int index, std::optional<std::string> value, Oid type) {
    if (index < 1 || index > sql_.parameters) {
        throw DatabaseError(Violation::none, "bind parameter " + std::to_string(index) + ": out of range");
    }
    values_[static_cast<std::size_t>(index - 1)] = std::move(value);
    types_[static_cast<std::size_t>(index - 1)] = type;
}

const PGresult* PostgresStatement::current() const {
    if (!result_ || row_ < 0) throw Error("internal: column read before step()");
    return result_.get();
}

void PostgresStatement::execute() {
    std::vector<const char*> values;
    values.reserve(values_.size());
    for (const auto& value : values_)
        values.push_back(value ? value->c_str() : nullptr);
    const int count = sql_.parameters;
    PGconn* conn = connection_.handle();
    if (!cached_) {
        result_ = connection_.check(
            PQexecParams(conn, sql_.sql.c_str(), count, types_.data(), values.data(), nullptr, nullptr, 0),
            "step");
        return;
    }
    // Prepared again after a reconnect (the server forgot it) or when a parameter's type changed.
    if (prepared_generation_ != connection_.generation() || prepared_types_ != types_) {
        if (prepared_generation_ == connection_.generation()) {
            const std::string deallocate = "DEALLOCATE " + name_;
            connection_.check(PQexec(conn, deallocate.c_str()), "deallocate");
        }
        prepared_generation_ = 0;
        name_ = connection_.next_statement_name();
        connection_.check(PQprepare(conn, name_.c_str(), sql_.sql.c_str(), count, types_.data()),
                          "prepare '" + sql_.sql + "'");
        prepared_generation_ = connection_.generation();
        prepared_types_ = types_;
    }
    result_ = connection_.check(
        PQexecPrepared(conn, name_.c_str(), count, values.data(), nullptr, nullptr, 0), "step");
}

bool PostgresStatement::step() {
    if (!result_) {
        execute();
        row_ = -1;
    }
    ++row_;
    return row_ < PQntuples(result_.get());
}

std::int64_t PostgresStatement::int64(int column) const {
    const PGresult* result = current();
    const char* text = PQgetvalue(result, row_, column);
    if (PQftype(result, column) == bool_oid) return text[0] == 't' ? 1 : 0;
    const char* end = text + PQgetlength(result, row_, column);
    std::int64_t value = 0;
    if (PQgetisnull(result, row_, column) != 0) return 0;
    const auto [ptr, ec] = std::from_chars(text, end, value);
    if (ec == std::errc{} && ptr == end) return value;
    return static_cast<std::int64_t>(real(column));  // numeric or float results, as SQLite would convert
}

double PostgresStatement::real(int column) const {
    const PGresult* result = current();
    if (PQgetisnull(result, row_, column) != 0) return 0;
    return std::strtod(PQgetvalue(result, row_, column), nullptr);
}

std::unique_ptr<ConnectionBackend> open_postgres(const std::string& location) {
    return std::make_unique<PostgresConnection>(location);
}

}  // namespace bootherd::db
