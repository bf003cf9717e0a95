#pragma once
// Cross-site request refusal for the routes a forged form or fetch could abuse without a CSRF token (login,
// logout). Browsers send Origin on every cross-origin POST (and Sec-Fetch-Site on modern ones); scripts and
// curl send neither, so a request without both is taken as not coming from a browser page and allowed.
#include <string_view>

#include "web/http_message.hpp"

namespace bootherd::web {

// True when Origin (if present) names the same scheme-less host and port as Host, and Sec-Fetch-Site (if
// present) is "same-origin" or "none". "Origin: null" is cross-site.
bool same_origin(const http::fields& headers);

// Throws ApiError 403 unless same_origin().
void require_same_origin(const Request& request);

}  // namespace bootherd::web
