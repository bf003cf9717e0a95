// COMPARE AND WRITE (SBC-3 5.2): atomic against every other medium access of the logical unit, which hold the
// unit's I/O lock shared while this command holds it exclusively.
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "target/scsi/cdb.hpp"
#include "target/scsi/handlers.hpp"

namespace bootherd::scsi::handlers {

void compare_and_write(Command& c) {
    const auto cdb = decode_compare_and_write(c.cdb());
    if (cdb.wrprotect != 0) fail_invalid_field_in_cdb(1, 7);
    if (cdb.blocks > BlockLimits::kMaxCompareAndWriteBlocks) fail_invalid_field_in_cdb(13);
    c.check_range(cdb.lba, cdb.blocks);
    if (cdb.blocks == 0) {
        // No blocks to compare, yet Data-Out on its way: the NUMBER OF LOGICAL BLOCKS cannot be what was
        // meant.
        if (c.task.expected_length != 0) fail_invalid_field_in_cdb(13);
        return;
    }

    const std::uint32_t bs = c.block_size();
    const std::size_t half = std::size_t{cdb.blocks} * bs;
    // The Data-Out buffer is the verify data followed by the write data; any other size is an initiator
    // error.
    if (c.task.expected_length != 2 * half || c.task.data_out_length != 2 * half)
        fail(SenseKey::illegal_request, asc::invalid_field_in_information_unit);
    const auto verify_data = data_out_bytes(c.task).first(half);
    const auto write_data = c.task.data_out().subspan(half, half);

    std::vector<std::byte> medium(half);
    std::unique_lock lock(c.lu().io_lock());
    check_backend(c.lu().backend().read(cdb.lba * bs, medium), IoKind::read);
    for (std::size_t i = 0; i < half; ++i) {
        if (verify_data[i] != static_cast<std::uint8_t>(medium[i])) fail_miscompare(i);
    }
    check_backend(c.lu().backend().write(cdb.lba * bs, write_data, cdb.fua), IoKind::write);
}

}  // namespace bootherd::scsi::handlers
