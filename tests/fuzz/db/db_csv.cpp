// Fuzzes the CSV reader and the MAC parser: both take bytes straight from an uploaded file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "db/csv.hpp"
#include "db/identifiers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto doc = bootherd::db::parse_csv(text);
    std::size_t last_line = 0;
    for (const auto& record : doc.records) {
        // Records come in order, start on a line that exists, and always have at least one field.
        if (record.line <= last_line || record.fields.empty()) std::abort();
        last_line = record.line;
        for (const auto& field : record.fields) {
            if (field.size() > size) std::abort();
            if (const auto mac = bootherd::db::normalize_mac(field)) {
                // Normalising is idempotent.
                if (mac->size() != 17 || bootherd::db::normalize_mac(*mac) != *mac) std::abort();
            }
        }
    }
    return 0;
}
