// ORWRITE(16) (SBC-3 5.8): ORs the Data-Out into the medium, atomically like COMPARE AND WRITE.
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "target/scsi/cdb.hpp"
#include "target/scsi/handlers.hpp"

namespace bootherd::scsi::handlers {

void or_write(Command& c) {
    const auto cdb = decode_block_command(c.cdb());
    if (cdb.protect != 0) fail_invalid_field_in_cdb(1, 7);
    const std::uint32_t bs = c.block_size();
    if (cdb.blocks > BlockLimits::kMaxTransferBytes / bs) fail_invalid_field_in_cdb(10);
    c.check_range(cdb.lba, cdb.blocks);
    if (cdb.blocks == 0) return;
    const std::size_t bytes = std::size_t{cdb.blocks} * bs;
    require_data_out(c.task, bytes);
    const auto mask = c.task.data_out().first(bytes);

    std::vector<std::byte> medium(bytes);
    std::unique_lock lock(c.lu().io_lock());
    check_backend(c.lu().backend().read(cdb.lba * bs, medium), IoKind::read);
    for (std::size_t i = 0; i < bytes; ++i)
        medium[i] |= mask[i];
    check_backend(c.lu().backend().write(cdb.lba * bs, medium, cdb.fua), IoKind::write);
}

}  // namespace bootherd::scsi::handlers
