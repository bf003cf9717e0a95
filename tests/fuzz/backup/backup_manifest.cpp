// Fuzzes the backup manifest parser: a restore reads SHA256SUMS from a directory someone hands it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "backup/manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const auto entries = bootherd::backup::parse_manifest(text);
        for (const auto& entry : entries) {
            // Whatever parses names a plain path inside the backup and formats back to itself.
            if (!bootherd::backup::is_plain_relative_path(entry.path) || entry.sha256.size() != 64)
                std::abort();
        }
        if (bootherd::backup::format_manifest(entries) != text) std::abort();
    } catch (const std::invalid_argument&) {
    }
    return 0;
}
