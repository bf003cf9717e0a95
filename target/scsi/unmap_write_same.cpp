// UNMAP and WRITE SAME(10/16) (SBC-3 5.28, 5.41-5.43).
#include <algorithm>
#include <mutex>
#include <shared_mutex>

#include "common/bytes.hpp"
#include "target/scsi/cdb.hpp"
#include "target/scsi/handlers.hpp"

namespace bootherd::scsi::handlers {
namespace {

constexpr std::size_t kUnmapHeader = 8;
constexpr std::size_t kUnmapDescriptor = 16;

struct UnmapRange {
    std::uint64_t lba;
    std::uint32_t blocks;
};

// Parses and validates the UNMAP parameter list (bounds-checked against both the CDB and the bytes received).
std::vector<UnmapRange> parse_unmap_list(const Command& c, std::span<const std::uint8_t> list) {
    if (list.size() < kUnmapHeader) fail(SenseKey::illegal_request, asc::parameter_list_length_error);
    const std::size_t data_length = load_be<std::uint16_t>(list.data());
    const std::size_t descriptor_length = load_be<std::uint16_t>(list.data() + 2);
    if (data_length + 2 > list.size() || descriptor_length + kUnmapHeader > list.size())
        fail(SenseKey::illegal_request, asc::parameter_list_length_error);
    const std::size_t count = descriptor_length / kUnmapDescriptor;
    if (count > BlockLimits::kMaxUnmapDescriptors) fail_invalid_field_in_parameter_list(2);

    std::vector<UnmapRange> ranges;
    ranges.reserve(count);
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const std::uint8_t* d = list.data() + kUnmapHeader + i * kUnmapDescriptor;
        UnmapRange r{load_be<std::uint64_t>(d), load_be<std::uint32_t>(d + 8)};
        c.check_range(r.lba, r.blocks);
        total += r.blocks;
        if (total > BlockLimits::kMaxUnmapBlocks)
            fail_invalid_field_in_parameter_list(
                static_cast<std::uint16_t>(kUnmapHeader + i * kUnmapDescriptor + 8));
        if (r.blocks != 0) ranges.push_back(r);
    }
    return ranges;
}

}  // namespace

void unmap(Command& c) {
    if (!c.geometry.thin) fail(SenseKey::illegal_request, asc::invalid_command_operation_code);
    const auto cdb = decode_unmap(c.cdb());
    if (cdb.anchor) fail_invalid_field_in_cdb(1, 0);  // ANC_SUP = 0
    if (cdb.parameter_list_length == 0) return;
    const auto received = data_out_bytes(c.task);
    if (received.size() < cdb.parameter_list_length)
        fail(SenseKey::illegal_request, asc::parameter_list_length_error);
    const auto ranges = parse_unmap_list(c, received.first(cdb.parameter_list_length));
    const std::uint32_t bs = c.block_size();
    std::shared_lock lock(c.lu().io_lock());
    for (const auto& r : ranges)
        check_backend(c.lu().backend().unmap(r.lba * bs, std::uint64_t{r.blocks} * bs), IoKind::write);
}

void write_same(Command& c) {
    const auto cdb = decode_write_same(c.cdb());
    if (cdb.wrprotect != 0) fail_invalid_field_in_cdb(1, 7);
    if (cdb.anchor) fail_invalid_field_in_cdb(1, 4);  // ANC_SUP = 0
    if (cdb.pbdata) fail_invalid_field_in_cdb(1, 2);
    if (cdb.lbdata) fail_invalid_field_in_cdb(1, 1);
    const bool long_form = c.cdb()[0] == opcode::write_same16;
    const std::uint16_t length_byte = long_form ? 10 : 7;
    const std::uint32_t bs = c.block_size();
    c.check_range(cdb.lba, cdb.blocks);
    // WSNZ = 0: zero blocks means through the last LBA, still within MAXIMUM WRITE SAME LENGTH (SBC-3 5.42).
    const std::uint64_t blocks = cdb.blocks != 0 ? cdb.blocks : c.block_count() - cdb.lba;
    if (blocks > BlockLimits::kMaxWriteSameBytes / bs) fail_invalid_field_in_cdb(length_byte);

    std::vector<std::byte> zeros;
    std::span<const std::byte> pattern;
    if (cdb.ndob) {
        zeros.assign(bs, std::byte{0});
        pattern = zeros;
    } else {
        // Exactly one logical block of Data-Out: less cannot form the pattern, more means the initiator and
        // this command disagree about the transfer.
        if (c.task.expected_length != bs || c.task.data_out_length != bs)
            fail(SenseKey::illegal_request, asc::invalid_field_in_information_unit);
        pattern = c.task.data_out();
    }
    if (blocks == 0) return;
    std::shared_lock lock(c.lu().io_lock());
    // With UNMAP set a thin unit deallocates whatever the pattern (LBPRZ: the blocks then read as zeros), as
    // LIO and tgt do and libiscsi's WRITE SAME tests expect; a thick unit writes the pattern.
    if (cdb.unmap && c.geometry.thin) {
        check_backend(c.lu().backend().unmap(cdb.lba * bs, blocks * bs), IoKind::write);
        return;
    }
    check_backend(c.lu().backend().write_same(cdb.lba * bs, blocks * bs, pattern, false), IoKind::write);
}

}  // namespace bootherd::scsi::handlers
