#include "tools/bootherd/descriptor_limit.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/log.hpp"

namespace bootherd::cli {
namespace {

std::string describe(rlim_t value) {
    return value == RLIM_INFINITY ? std::string("unlimited") : std::to_string(value);
}

}  // namespace

void raise_descriptor_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        log::warn("descriptor limit: getrlimit failed: ", std::strerror(errno));
        return;
    }
    const rlim_t before = limit.rlim_cur;
    if (limit.rlim_cur != limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
            log::warn("descriptor limit: could not raise ", describe(before), " to ",
                      describe(limit.rlim_max), ": ", std::strerror(errno));
            return;
        }
    }
    log::info("descriptor limit: ", describe(limit.rlim_cur), " (soft was ", describe(before), ", hard ",
              describe(limit.rlim_max), ")");
}

}  // namespace bootherd::cli
