// READ, WRITE, WRITE AND VERIFY and VERIFY in all their CDB sizes (SBC-3 5.x).
#include <algorithm>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "target/scsi/cdb.hpp"
#include "target/scsi/handlers.hpp"

namespace bootherd::scsi::handlers {
namespace {

// Byte of the TRANSFER LENGTH field, for the sense-key specific field pointer.
std::uint16_t transfer_length_byte(std::uint8_t op) {
    switch (cdb_size_for_opcode(op)) {
        case 6:
            return 4;
        case 10:
            return 7;
        case 12:
            return 6;
        default:
            return 10;
    }
}

// Checks shared by every block command: no protection information, transfer length within limits, range.
BlockCommandCdb decode_checked(const Command& c, bool limit_transfer) {
    const auto cdb = decode_block_command(c.cdb());
    if (cdb.protect != 0) fail_invalid_field_in_cdb(1, 7);
    if (limit_transfer && cdb.blocks > BlockLimits::kMaxTransferBytes / c.block_size())
        fail_invalid_field_in_cdb(transfer_length_byte(c.cdb()[0]));
    c.check_range(cdb.lba, cdb.blocks);
    return cdb;
}

// First differing byte of two equally long buffers, if any.
std::optional<std::size_t> first_difference(std::span<const std::uint8_t> a, std::span<const std::byte> b) {
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i] != static_cast<std::uint8_t>(b[i])) return i;
    }
    return std::nullopt;
}

// Reads [lba, lba + blocks) and compares it with `expected` repeated as needed (expected is one block or the
// whole range). Fails with MISCOMPARE and the byte offset within the Data-Out buffer.
void compare_medium(Command& c, std::uint64_t lba, std::uint32_t blocks,
                    std::span<const std::uint8_t> expected) {
    const std::uint32_t bs = c.block_size();
    std::vector<std::byte> medium(std::size_t{blocks} * bs);
    check_backend(c.lu().backend().read(lba * bs, medium), IoKind::read);
    const bool one_block = expected.size() == bs && blocks > 1;
    for (std::uint32_t i = 0; i < blocks; ++i) {
        const auto want = one_block ? expected : expected.subspan(std::size_t{i} * bs, bs);
        if (auto at = first_difference(want, std::span(medium).subspan(std::size_t{i} * bs, bs)))
            fail_miscompare(one_block ? *at : std::size_t{i} * bs + *at);
    }
}

// Writes the Data-Out of a WRITE-like command. When the initiator sent less than the CDB asks for (its
// expected data transfer length is smaller), the command is processed normally up to that length and no
// further, as iSCSI (RFC 7143 11.4.5.2) and libiscsi's residual tests expect: whole blocks are written as
// they are and a trailing partial block is merged with the medium under the exclusive lock. Returns the bytes
// written.
std::size_t write_received(Command& c, std::uint64_t lba, std::size_t wanted, bool fua) {
    const std::uint32_t bs = c.block_size();
    const std::size_t available = std::min<std::size_t>(wanted, c.task.data_out_length);
    const std::size_t whole = available / bs * bs;
    const auto data = c.task.data_out();
    auto& backend = c.lu().backend();
    if (whole == available) {
        std::shared_lock lock(c.lu().io_lock());
        if (whole != 0) check_backend(backend.write(lba * bs, data.first(whole), fua), IoKind::write);
        return available;
    }
    std::unique_lock lock(c.lu().io_lock());
    if (whole != 0) check_backend(backend.write(lba * bs, data.first(whole), fua), IoKind::write);
    const std::uint64_t tail_lba = lba + whole / bs;
    std::vector<std::byte> block(bs);
    check_backend(backend.read(tail_lba * bs, block), IoKind::read);
    std::copy(data.begin() + static_cast<std::ptrdiff_t>(whole),
              data.begin() + static_cast<std::ptrdiff_t>(available), block.begin());
    check_backend(backend.write(tail_lba * bs, block, fua), IoKind::write);
    return available;
}

}  // namespace

void read(Command& c) {
    const auto cdb = decode_checked(c, true);
    if (cdb.blocks == 0) return;
    const std::uint32_t bs = c.block_size();
    auto buffer = c.task.data_in(std::size_t{cdb.blocks} * bs);
    if (c.nowait) {
        std::shared_lock lock(c.lu().io_lock(), std::try_to_lock);
        if (!lock.owns_lock() || !c.lu().backend().try_read_nowait(cdb.lba * bs, buffer)) throw WouldBlock{};
        return;
    }
    std::shared_lock lock(c.lu().io_lock());
    check_backend(c.lu().backend().read(cdb.lba * bs, buffer), IoKind::read);
}

void write(Command& c) {
    const auto cdb = decode_checked(c, true);
    if (cdb.blocks == 0) return;
    write_received(c, cdb.lba, std::size_t{cdb.blocks} * c.block_size(), cdb.fua);
}

void write_and_verify(Command& c) {
    const auto cdb = decode_checked(c, true);
    if (cdb.bytchk > 1) fail_invalid_field_in_cdb(1, 2);
    if (cdb.blocks == 0) return;
    // Written through to the medium so that the verification reads what was stored.
    const std::size_t written = write_received(c, cdb.lba, std::size_t{cdb.blocks} * c.block_size(), true);
    if (cdb.bytchk == 1 && written != 0) {
        const std::uint32_t bs = c.block_size();
        const auto blocks = static_cast<std::uint32_t>((written + bs - 1) / bs);
        std::vector<std::byte> medium(std::size_t{blocks} * bs);
        std::shared_lock lock(c.lu().io_lock());
        check_backend(c.lu().backend().read(cdb.lba * bs, medium), IoKind::read);
        if (auto at =
                first_difference(data_out_bytes(c.task).first(written), std::span(medium).first(written)))
            fail_miscompare(*at);
    }
}

void verify(Command& c) {
    const auto cdb = decode_block_command(c.cdb());
    if (cdb.protect != 0) fail_invalid_field_in_cdb(1, 7);
    if (cdb.bytchk == 2) fail_invalid_field_in_cdb(1, 2);
    const std::uint32_t bs = c.block_size();
    if (cdb.bytchk != 0 && cdb.blocks > BlockLimits::kMaxTransferBytes / bs)
        fail_invalid_field_in_cdb(transfer_length_byte(c.cdb()[0]));
    c.check_range(cdb.lba, cdb.blocks);
    // BYTCHK 0 asks for a medium verification only: the backend has no defect list to consult.
    if (cdb.blocks == 0 || cdb.bytchk == 0) return;
    const std::size_t needed = cdb.bytchk == 1 ? std::size_t{cdb.blocks} * bs : bs;
    require_data_out(c.task, needed);
    std::shared_lock lock(c.lu().io_lock());
    compare_medium(c, cdb.lba, cdb.blocks, data_out_bytes(c.task).first(needed));
}

}  // namespace bootherd::scsi::handlers
