// Fuzzes CSV node import end to end against a real in-memory catalog: whatever the file, the import either
// lands every data row or none, and never throws. Each run happens inside a transaction that is rolled back,
// so every input starts from the same catalog (and the import runs as a nested savepoint).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "db/catalog.hpp"

namespace {

bootherd::db::Catalog make_catalog() {
    auto catalog = bootherd::db::Catalog::open_in_memory();
    auto session = catalog.session();
    const auto image = session.images().create("win11");
    session.groups().create({.name = "lab", .image_id = image.id});
    session.nodes().add({.name = "existing", .mac = "02:00:00:00:00:01"});
    return catalog;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static auto catalog = make_catalog();
    auto session = catalog.session();
    bootherd::db::Transaction scratch(session.database());

    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto report = session.nodes().import_csv(text);
    const auto total = session.nodes().list({.limit = 1}).total;
    if (report.ok()) {
        if (report.imported != report.rows || total != static_cast<std::int64_t>(report.rows) + 1)
            std::abort();
    } else if (report.imported != 0 || total != 1) {
        std::abort();
    }
    return 0;
}
