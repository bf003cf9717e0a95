// READ CAPACITY(10), READ CAPACITY(16) and GET LBA STATUS.
#include <array>
#include <bit>
#include <vector>

#include "common/bytes.hpp"
#include "target/scsi/cdb.hpp"
#include "target/scsi/handlers.hpp"

namespace bootherd::scsi::handlers {
namespace {
// Descriptors one GET LBA STATUS returns at most, so a fragmented medium cannot make it scan without bound.
constexpr std::size_t kMaxLbaStatusDescriptors = 64;
}  // namespace

void read_capacity10(Command& c) {
    decode_read_capacity10(c.cdb());
    const std::uint64_t last = c.block_count() - 1;
    std::array<std::uint8_t, 8> d{};
    store_be<std::uint32_t>(d.data(), last > 0xffffffffu ? 0xffffffffu : static_cast<std::uint32_t>(last));
    store_be<std::uint32_t>(d.data() + 4, c.block_size());
    respond(c.task, d, d.size());
}

void read_capacity16(Command& c) {
    const auto cdb = decode_service_action_in16(c.cdb());
    std::array<std::uint8_t, 32> d{};
    store_be<std::uint64_t>(d.data(), c.block_count() - 1);
    store_be<std::uint32_t>(d.data() + 8, c.block_size());
    const std::uint32_t per_physical = c.geometry.physical_block_size / c.block_size();
    if (per_physical > 1 && std::has_single_bit(per_physical))
        d[13] = static_cast<std::uint8_t>(
            std::countr_zero(per_physical));   // LOGICAL BLOCKS PER PHYSICAL EXPONENT
    if (c.geometry.thin) d[14] = 0x80 | 0x40;  // LBPME, LBPRZ
    respond(c.task, d, cdb.allocation_length);
}

void get_lba_status(Command& c) {
    const auto cdb = decode_service_action_in16(c.cdb());
    const std::uint64_t count = c.block_count();
    if (cdb.lba >= count) fail_lba_out_of_range();
    const std::uint32_t bs = c.block_size();

    // Room for as many 16-byte descriptors as the allocation length allows (at least one is always built).
    const std::size_t wanted = cdb.allocation_length < 24 ? 1 : (cdb.allocation_length - 8) / 16;
    const std::size_t limit = std::min(wanted, kMaxLbaStatusDescriptors);
    std::vector<std::uint8_t> out(8, 0);
    std::uint64_t lba = cdb.lba;
    while (lba < count && (out.size() - 8) / 16 < limit) {
        block::BlockDevice::Extent extent;
        const std::uint64_t remaining = count - lba;
        check_backend(c.lu().backend().extent_at(lba * bs, remaining * bs, extent), IoKind::read);
        std::uint64_t blocks = extent.length / bs;
        if (blocks == 0 || blocks > remaining) blocks = remaining;
        blocks = std::min<std::uint64_t>(blocks, 0xffffffffu);
        std::array<std::uint8_t, 16> desc{};
        store_be<std::uint64_t>(desc.data(), lba);
        store_be<std::uint32_t>(desc.data() + 8, static_cast<std::uint32_t>(blocks));
        desc[12] = static_cast<std::uint8_t>(extent.state);
        out.insert(out.end(), desc.begin(), desc.end());
        lba += blocks;
    }
    store_be<std::uint32_t>(out.data(), static_cast<std::uint32_t>(out.size() - 4));
    respond(c.task, out, cdb.allocation_length);
}

}  // namespace bootherd::scsi::handlers
