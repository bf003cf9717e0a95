#include <doctest/doctest.h>

#include "db/error.hpp"
#include "web/api_error.hpp"

using namespace bootherd;
namespace http = boost::beast::http;

namespace {

template <class E>
web::Response answer_for(const E& error) {
    return web::error_response_for(std::make_exception_ptr(error));
}

}  // namespace

TEST_CASE("catalog failures map to their HTTP status; an unavailable catalog is a 503, not a 500") {
    CHECK(answer_for(db::NotFound("node 1 does not exist")).status == http::status::not_found);
    CHECK(answer_for(db::Conflict("name", "taken")).status == http::status::conflict);
    const auto unavailable = answer_for(db::CatalogUnavailable("catalog postgresql://db:5432/x: gone"));
    CHECK(unavailable.status == http::status::service_unavailable);
    CHECK(unavailable.body.find("postgresql://") == std::string::npos);  // where the catalog is stays inside
    CHECK(answer_for(db::DatabaseError(db::Violation::none, "disk I/O error")).status ==
          http::status::internal_server_error);
}
