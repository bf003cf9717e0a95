#pragma once
// The refusal a catalog call ends with, as a string a CHECK can compare.
#include <string>

#include "db/error.hpp"

namespace bootherd::db::testing {

// "field" of the Conflict, "invalid:field" of the InvalidArgument, or "no error".
template <class F>
std::string refusal(F&& f) {
    try {
        f();
    } catch (const Conflict& e) {
        return e.field();
    } catch (const InvalidArgument& e) {
        return "invalid:" + e.field();
    }
    return "no error";
}

}  // namespace bootherd::db::testing
