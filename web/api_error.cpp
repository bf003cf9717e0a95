#include "web/api_error.hpp"

#include <boost/json.hpp>

#include "common/log.hpp"
#include "db/error.hpp"
#include "imagestore/image_error.hpp"
#include "imagestore/store/image_store.hpp"

namespace bootherd::web {

Response error_response(http::status status, const std::string& message, const std::string& field) {
    boost::json::object body{{"error", message}};
    if (!field.empty()) body["field"] = field;
    return json_response(body, status);
}

Response error_response_for(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const ApiError& e) {
        return error_response(e.status(), e.what(), e.field());
    } catch (const db::NotFound& e) {
        return error_response(http::status::not_found, e.what());
    } catch (const db::InvalidArgument& e) {
        return error_response(http::status::bad_request, e.what(), e.field());
    } catch (const db::Conflict& e) {
        return error_response(http::status::conflict, e.what(), e.field());
    } catch (const db::CatalogUnavailable& e) {
        // The shared PostgreSQL catalog is down: worth a retry, and the connection comes back by itself.
        log::warn("web: ", e.what());
        return error_response(http::status::service_unavailable,
                              "the catalog cannot be reached; management is unavailable until it answers "
                              "(machines keep booting from what each server knows); try again shortly");
    } catch (const imagestore::store::StoreError& e) {
        return error_response(http::status::conflict, e.what());
    } catch (const imagestore::ImageError& e) {
        return error_response(http::status::bad_request, e.what());
    } catch (const std::exception& e) {
        log::error("web: request failed: ", e.what());
        return error_response(http::status::internal_server_error, "internal error; see the server log");
    }
}

}  // namespace bootherd::web
