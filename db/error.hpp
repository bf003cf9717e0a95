#pragma once
// Exceptions thrown by the catalog. Callers (web API, CLI) map them to user-facing responses:
// NotFound -> 404, InvalidArgument -> 400, Conflict -> 409, Error -> 500.
#include <stdexcept>
#include <string>

namespace bootherd::db {

class Error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// An SQLite call failed; `code` is the extended result code.
class SqliteError : public Error {
  public:
    SqliteError(int code, const std::string& message) : Error(message), code_(code) {}
    int code() const noexcept { return code_; }

  private:
    int code_;
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
