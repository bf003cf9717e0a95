#pragma once
// What a route handler sees of an HTTP request and what it returns.
#include <boost/asio/ip/address.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bootherd::web {

namespace http = boost::beast::http;

using StringMap = std::map<std::string, std::string, std::less<>>;

// Who made the request, set by the authentication gate before the handler runs.
struct Principal {
    std::int64_t user_id = 0;
    std::string username{};
    bool via_token = false;
    bool reads_only = false;  // a read-scoped token: no secrets in answers either
};

struct Request {
    http::verb method = http::verb::get;
    std::string path{};  // as sent, without the query string
    StringMap query{};   // decoded
    StringMap params{};  // decoded path parameters of the matched route
    http::fields headers{};
    std::string body{};
    std::filesystem::path body_file{};  // upload routes: the body as a file the handler now owns
    boost::asio::ip::address client{};
    bool secure = false;  // arrived over TLS
    std::optional<Principal> principal{};

    // The query parameter, or nullopt when absent or empty.
    std::optional<std::string> query_value(std::string_view name) const;
    const Principal& user() const;  // the gate's principal; throws if the route is public
};

// A body read from a file: the server sends bytes [offset, offset + length) of it in bounded chunks, reading
// them on a worker, so neither its memory nor its network thread depends on the file. Meant for immutable
// files (sealed versions): the length is fixed when the handler answers.
struct FileBody {
    std::filesystem::path path{};
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

struct Response {
    http::status status = http::status::ok;
    std::string content_type = "application/json";
    std::string body{};
    std::vector<std::pair<http::field, std::string>> headers{};
    // Set for a never-ending body (Server-Sent Events): after the headers the server calls it on a worker
    // thread about twice a second and writes what it returns (empty: nothing new) until the client leaves.
    std::function<std::string()> stream{};
    std::optional<FileBody> file{};  // set: the body (and Content-Length) comes from this file, `body` unused
};

Response json_response(const boost::json::value& value, http::status status = http::status::ok);
Response text_response(std::string body, std::string content_type, http::status status = http::status::ok);
Response no_content();

}  // namespace bootherd::web
