// SYNCHRONIZE CACHE(10/16) and PRE-FETCH(10/16): cache control over a range (0 blocks = to the end).
#include "target/scsi/cdb.hpp"
#include "target/scsi/handlers.hpp"

namespace bootherd::scsi::handlers {

void synchronize_cache(Command& c) {
    const auto cdb = decode_block_command(c.cdb());
    c.check_range(cdb.lba, cdb.blocks);
    // The backend flushes everything; a range flush would cost the same.
    check_backend(c.lu().backend().flush(), IoKind::write);
}

void prefetch(Command& c) {
    const auto cdb = decode_block_command(c.cdb());
    c.check_range(cdb.lba, cdb.blocks);
    // There is no target-side cache to fill: GOOD says the blocks were not necessarily cached (SBC-3 5.9).
}

}  // namespace bootherd::scsi::handlers
