// Sealed versions are immutable, so their bytes can be served as they are, resumably (Range) and
// identified by their SHA-256 (ETag). Only this server's own copy is served: the file at the version's path
// exists here only once it was sealed here or pulled and verified (replication/VersionPuller).
#include "web/api/version_file_route.hpp"

#include <charconv>
#include <filesystem>
#include <system_error>

#include "web/api/lookup.hpp"
#include "web/api_error.hpp"
#include "web/http_parsing.hpp"

namespace bootherd::web {
namespace {

db::Version sealed_version(ApiContext& context, const Request& request) {
    const auto& name = request.params.at("name");
    const auto& number_text = request.params.at("number");
    std::int64_t number = 0;
    const auto end = number_text.data() + number_text.size();
    const auto [stop, error] = std::from_chars(number_text.data(), end, number);
    const std::string unknown = "no sealed version " + number_text + " of image '" + name + "'";
    if (error != std::errc{} || stop != end) throw ApiError(http::status::not_found, unknown);
    auto session = context.store.catalog().session();
    const auto image = image_named(session, name);
    auto version = session.versions().find_by_number(image.id, number);
    if (!version || version->state != db::VersionState::sealed)
        throw ApiError(http::status::not_found, unknown);
    return *version;
}

}  // namespace

void add_version_file_route(Router& router, ApiContext& context) {
    router.add(http::verb::get, "/api/v1/images/{name}/versions/{number}/file", [&context](Request& request) {
        // The whole disk of every machine of the image: not for read-only tokens (a metrics scraper).
        if (request.user().reads_only)
            throw ApiError(http::status::forbidden, "reading a version's file needs an admin token");
        const auto version = sealed_version(context, request);
        const auto path = context.store.absolute(version.file_path);
        std::error_code ec;
        const auto size = std::filesystem::file_size(path, ec);
        if (ec)
            throw ApiError(http::status::not_found, "this server holds no copy of version " +
                                                        std::to_string(version.number) + " of image '" +
                                                        request.params.at("name") + "'");
        Response response;
        response.content_type = "application/octet-stream";
        response.headers.emplace_back(http::field::accept_ranges, "bytes");
        response.headers.emplace_back(http::field::cache_control, "no-store");
        if (version.sha256) response.headers.emplace_back(http::field::etag, "\"" + *version.sha256 + "\"");
        std::uint64_t first = 0;
        std::uint64_t length = size;
        if (auto header = request.headers.find(http::field::range); header != request.headers.end()) {
            const auto range = parse_byte_range(header->value(), size);
            if (range.kind == ByteRange::Kind::unsatisfiable) {
                auto refusal =
                    error_response(http::status::range_not_satisfiable, "the range starts beyond the file");
                refusal.headers.emplace_back(http::field::content_range, "bytes */" + std::to_string(size));
                return refusal;
            }
            if (range.kind == ByteRange::Kind::satisfiable) {
                response.status = http::status::partial_content;
                first = range.first;
                length = range.last - range.first + 1;
                response.headers.emplace_back(http::field::content_range,
                                              "bytes " + std::to_string(range.first) + "-" +
                                                  std::to_string(range.last) + "/" + std::to_string(size));
            }
        }
        response.file = FileBody{path, first, length};
        return response;
    });
}

}  // namespace bootherd::web
