// Everything of a request that bootherd's web code parses itself (Beast parses the HTTP framing): the query
// string, the Cookie and Authorization headers, path parameters through the router, and JSON bodies through
// the typed field readers. The first byte picks the parser; the rest is the untrusted text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "web/api_error.hpp"
#include "web/http_parsing.hpp"
#include "web/json_input.hpp"
#include "web/router.hpp"

using namespace bootherd::web;

namespace {

const Router& router() {
    static const Router instance = [] {
        Router r;
        const auto ok = [](Request&) { return Response{}; };
        r.add(http::verb::get, "/api/v1/nodes", ok);
        r.add(http::verb::get, "/api/v1/nodes/{name}", ok);
        r.add(http::verb::post, "/api/v1/images/{name}/promote", ok);
        r.add(http::verb::get, "/boot/{mac}.ipxe", ok);
        return r;
    }();
    return instance;
}

void read_fields(std::string_view text) {
    try {
        const auto object = parse_object(text);
        (void)optional_string(object, "name");
        (void)nullable_string(object, "image");
        (void)nullable_bool(object, "persistent");
        (void)optional_bool(object, "enabled");
        if (object.contains("version")) (void)required_int(object, "version");
        if (object.contains("names")) (void)required_array(object, "names");
    } catch (const ApiError&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 5) {
        case 0: {
            const auto [path, query] = split_target(text);
            if (auto parsed = parse_query(query)) {
                Request request;
                request.query = std::move(*parsed);
                try {
                    (void)query_int(request, "limit", 100, 1, 1000);
                } catch (const ApiError&) {
                }
            }
            (void)router().match(http::verb::get, path);
            break;
        }
        case 1:
            (void)cookie_value(text, "bootherd_session");
            break;
        case 2:
            (void)bearer_token(text);
            break;
        case 3:
            (void)router().match(http::verb::post, text);
            (void)percent_decode(text, false);
            break;
        default:
            read_fields(text);
            break;
    }
    return 0;
}
