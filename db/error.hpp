#pragma once
// Exceptions thrown by the catalog. Callers (web API, CLI) map them to user-facing responses:
// NotFound -> 404, InvalidArgument -> 400, Conflict -> 409, CatalogUnavailable -> 503, Error -> 500.
#include <stdexcept>
#include <string>

namespace bootherd::db {

class Error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Which integrity rule a failed statement broke, whatever the backend.
enum class Violation { none, unique, primary_key, foreign_key, not_null, check };

// A database call failed; `violation` says which constraint, when one did.
class DatabaseError : public Error {
  public:
    DatabaseError(Violation violation, const std::string& message) : Error(message), violation_(violation) {}
    Violation violation() const noexcept { return violation_; }

  private:
    Violation violation_;
};

// The catalog's server cannot be reached (PostgreSQL down or the connection lost): retry later (503). The
// connection is re-established by the next session once the server is back.
class CatalogUnavailable : public DatabaseError {
  public:
    explicit CatalogUnavailable(const std::string& message) : DatabaseError(Violation::none, message) {}
};

class NotFound : public Error {
  public:
    using Error::Error;
};

// A value supplied by the caller breaks a rule; `field` names it (e.g. "mac").
class InvalidArgument : public Error {
  public:
    InvalidArgument(std::string field, const std::string& message)
        : Error(field + ": " + message), field_(std::move(field)) {}
    const std::string& field() const noexcept { return field_; }

  private:
    std::string field_;
};

// The request is valid but clashes with what is stored (duplicate name, object in use, wrong state).
class Conflict : public Error {
  public:
    Conflict(std::string field, const std::string& message)
        : Error(field + ": " + message), field_(std::move(field)) {}
    const std::string& field() const noexcept { return field_; }

  private:
    std::string field_;
};

}  // namespace bootherd::db
