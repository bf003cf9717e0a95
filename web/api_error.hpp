#pragma once
// The one exception type handlers throw for a client-visible failure, and the mapping of every exception a
// handler may let escape (catalog, image store, JSON) to the contract's JSON error body.
#include <boost/beast/http/status.hpp>
#include <exception>
#include <stdexcept>
#include <string>

#include "web/http_message.hpp"

namespace bootherd::web {

class ApiError : public std::runtime_error {
  public:
    ApiError(boost::beast::http::status status, const std::string& message, std::string field = {})
        : std::runtime_error(message), status_(status), field_(std::move(field)) {}
    boost::beast::http::status status() const noexcept { return status_; }
    const std::string& field() const noexcept { return field_; }

  private:
    boost::beast::http::status status_;
    std::string field_;
};

// {"error": message, "field": field (when not empty)}
Response error_response(boost::beast::http::status status, const std::string& message,
                        const std::string& field = {});

// Maps the exception in flight: ApiError as it says, db::NotFound 404, db::InvalidArgument 400,
// db::Conflict and StoreError 409, ImageError 400, db::CatalogUnavailable 503, anything else 500 (logged,
// message kept generic).
Response error_response_for(std::exception_ptr error);

}  // namespace bootherd::web
