#include "target/scsi/cdb.hpp"

#include <algorithm>

#include "common/bytes.hpp"
#include "target/scsi/sense.hpp"

namespace bootherd::scsi {
namespace {

// Field access into a CDB whose length was checked once, up front, against the size the opcode needs.
class CdbReader {
  public:
    CdbReader(CdbBytes cdb, std::size_t required) : cdb_(cdb) {
        if (required == 0 || cdb.size() < required) fail_invalid_field_in_cdb(0);
    }
    explicit CdbReader(CdbBytes cdb) : CdbReader(cdb, cdb.empty() ? 0 : cdb_size_for_opcode(cdb[0])) {}

    std::uint8_t u8(std::size_t i) const { return cdb_[i]; }
    bool bit(std::size_t i, unsigned b) const { return (cdb_[i] >> b) & 1u; }
    std::uint16_t be16(std::size_t i) const { return load_be<std::uint16_t>(cdb_.data() + i); }
    std::uint32_t be32(std::size_t i) const { return load_be<std::uint32_t>(cdb_.data() + i); }
    std::uint64_t be64(std::size_t i) const { return load_be<std::uint64_t>(cdb_.data() + i); }
    std::uint8_t opcode() const { return cdb_[0]; }

  private:
    CdbBytes cdb_;
};

}  // namespace

std::uint16_t decode_service_action(CdbBytes cdb) {
    CdbReader r(cdb, 2);
    return r.u8(1) & 0x1f;
}

bool control_byte_has_naca(CdbBytes cdb) {
    const std::size_t size = cdb.empty() ? 0 : cdb_size_for_opcode(cdb[0]);
    if (size == 0 || cdb.size() < size) return false;
    return (cdb[size - 1] & 0x04) != 0;
}

std::optional<std::uint32_t> data_out_length_of(CdbBytes cdb, std::uint32_t block_size) {
    if (cdb.empty() || cdb_size_for_opcode(cdb[0]) == 0 || cdb.size() < cdb_size_for_opcode(cdb[0]))
        return std::nullopt;
    auto saturate = [](std::uint64_t bytes) {
        return static_cast<std::uint32_t>(std::min<std::uint64_t>(bytes, 0xffffffffu));
    };
    switch (cdb[0]) {
        case opcode::write6:
        case opcode::write10:
        case opcode::write12:
        case opcode::write16:
        case opcode::or_write16:
        case opcode::write_and_verify10:
        case opcode::write_and_verify12:
        case opcode::write_and_verify16:
            return saturate(std::uint64_t{decode_block_command(cdb).blocks} * block_size);
        case opcode::verify10:
        case opcode::verify12:
        case opcode::verify16: {
            const auto d = decode_block_command(cdb);
            if (d.bytchk == 1) return saturate(std::uint64_t{d.blocks} * block_size);
            return d.bytchk == 3 ? block_size : 0;
        }
        case opcode::write_same10:
        case opcode::write_same16:
            return decode_write_same(cdb).ndob ? 0 : block_size;
        case opcode::compare_and_write:
            return saturate(2ull * decode_compare_and_write(cdb).blocks * block_size);
        case opcode::unmap:
            return decode_unmap(cdb).parameter_list_length;
        case opcode::mode_select6:
        case opcode::mode_select10:
            return decode_mode_select(cdb).parameter_list_length;
        case opcode::persistent_reserve_out:
            return decode_persistent_reserve_out(cdb).parameter_list_length;
        default:
            return std::nullopt;
    }
}

BlockCommandCdb decode_block_command(CdbBytes cdb) {
    CdbReader r(cdb);
    BlockCommandCdb d;
    switch (r.opcode()) {
        case opcode::read6:
        case opcode::write6:
            d.lba = ((r.u8(1) & 0x1fu) << 16) | r.be16(2);
            d.blocks = r.u8(4) == 0 ? 256 : r.u8(4);
            return d;
        case opcode::prefetch10:
        case opcode::synchronize_cache10:
            d.immed = r.bit(1, 1);
            d.lba = r.be32(2);
            d.blocks = r.be16(7);
            return d;
        case opcode::prefetch16:
        case opcode::synchronize_cache16:
            d.immed = r.bit(1, 1);
            d.lba = r.be64(2);
            d.blocks = r.be32(10);
            return d;
        default:
            break;
    }
    d.protect = r.u8(1) >> 5;
    d.dpo = r.bit(1, 4);
    d.fua = r.bit(1, 3);
    d.bytchk = (r.u8(1) >> 1) & 0x03;
    switch (r.opcode()) {
        case opcode::read10:
        case opcode::write10:
        case opcode::verify10:
        case opcode::write_and_verify10:
            d.lba = r.be32(2);
            d.blocks = r.be16(7);
            break;
        case opcode::read12:
        case opcode::write12:
        case opcode::verify12:
        case opcode::write_and_verify12:
            d.lba = r.be32(2);
            d.blocks = r.be32(6);
            break;
        case opcode::read16:
        case opcode::write16:
        case opcode::or_write16:
        case opcode::verify16:
        case opcode::write_and_verify16:
            d.lba = r.be64(2);
            d.blocks = r.be32(10);
            break;
        default:
            fail_invalid_field_in_cdb(0);
    }
    // Reads and writes have no BYTCHK; those bits are RARC and FUA_NV there, which need no action.
    switch (r.opcode()) {
        case opcode::verify10:
        case opcode::verify12:
        case opcode::verify16:
        case opcode::write_and_verify10:
        case opcode::write_and_verify12:
        case opcode::write_and_verify16:
            d.fua = false;
            break;
        default:
            d.bytchk = 0;
    }
    return d;
}

WriteSameCdb decode_write_same(CdbBytes cdb) {
    CdbReader r(cdb);
    WriteSameCdb d;
    d.wrprotect = r.u8(1) >> 5;
    d.anchor = r.bit(1, 4);
    d.unmap = r.bit(1, 3);
    d.pbdata = r.bit(1, 2);
    d.lbdata = r.bit(1, 1);
    if (r.opcode() == opcode::write_same16) {
        d.ndob = r.bit(1, 0);
        d.lba = r.be64(2);
        d.blocks = r.be32(10);
    } else {
        d.lba = r.be32(2);
        d.blocks = r.be16(7);
    }
    return d;
}

CompareAndWriteCdb decode_compare_and_write(CdbBytes cdb) {
    CdbReader r(cdb);
    return {r.be64(2), r.u8(13), static_cast<std::uint8_t>(r.u8(1) >> 5), r.bit(1, 3)};
}

InquiryCdb decode_inquiry(CdbBytes cdb) {
    CdbReader r(cdb);
    if (r.bit(1, 1)) fail_invalid_field_in_cdb(1, 1);  // CMDDT (obsolete)
    InquiryCdb d{r.bit(1, 0), r.u8(2), r.be16(3)};
    if (!d.evpd && d.page_code != 0) fail_invalid_field_in_cdb(2);
    return d;
}

RequestSenseCdb decode_request_sense(CdbBytes cdb) {
    CdbReader r(cdb);
    return {r.bit(1, 0), r.u8(4)};
}

ReportLunsCdb decode_report_luns(CdbBytes cdb) {
    CdbReader r(cdb);
    return {r.u8(2), r.be32(6)};
}

ReadCapacity10Cdb decode_read_capacity10(CdbBytes cdb) {
    CdbReader r(cdb);
    ReadCapacity10Cdb d{r.be32(2), r.bit(8, 0)};
    if (!d.pmi && d.lba != 0) fail_invalid_field_in_cdb(2);
    return d;
}

ServiceActionIn16Cdb decode_service_action_in16(CdbBytes cdb) {
    CdbReader r(cdb);
    return {r.be64(2), r.be32(10)};
}

ModeSenseCdb decode_mode_sense(CdbBytes cdb) {
    CdbReader r(cdb);
    ModeSenseCdb d;
    d.long_form = r.opcode() == opcode::mode_sense10;
    d.disable_block_descriptors = r.bit(1, 3);
    d.long_lba_accepted = d.long_form && r.bit(1, 4);
    d.page_control = static_cast<PageControl>(r.u8(2) >> 6);
    d.page_code = r.u8(2) & 0x3f;
    d.subpage_code = r.u8(3);
    d.allocation_length = d.long_form ? r.be16(7) : r.u8(4);
    return d;
}

ModeSelectCdb decode_mode_select(CdbBytes cdb) {
    CdbReader r(cdb);
    ModeSelectCdb d;
    d.long_form = r.opcode() == opcode::mode_select10;
    d.page_format = r.bit(1, 4);
    d.save_pages = r.bit(1, 0);
    d.parameter_list_length = d.long_form ? r.be16(7) : r.u8(4);
    return d;
}

StartStopUnitCdb decode_start_stop_unit(CdbBytes cdb) {
    CdbReader r(cdb);
    return {r.bit(1, 0), static_cast<std::uint8_t>(r.u8(4) >> 4), r.bit(4, 1), r.bit(4, 0)};
}

PreventAllowCdb decode_prevent_allow(CdbBytes cdb) {
    CdbReader r(cdb);
    return {static_cast<std::uint8_t>(r.u8(4) & 0x03)};
}

UnmapCdb decode_unmap(CdbBytes cdb) {
    CdbReader r(cdb);
    return {r.bit(1, 0), r.be16(7)};
}

ReportOpcodesCdb decode_report_opcodes(CdbBytes cdb) {
    CdbReader r(cdb);
    return {r.bit(2, 7), static_cast<std::uint8_t>(r.u8(2) & 0x07), r.u8(3), r.be16(4), r.be32(6)};
}

PersistentReserveInCdb decode_persistent_reserve_in(CdbBytes cdb) {
    CdbReader r(cdb);
    return {static_cast<std::uint8_t>(r.u8(1) & 0x1f), r.be16(7)};
}

PersistentReserveOutCdb decode_persistent_reserve_out(CdbBytes cdb) {
    CdbReader r(cdb);
    return {static_cast<std::uint8_t>(r.u8(1) & 0x1f), static_cast<std::uint8_t>(r.u8(2) >> 4),
            static_cast<std::uint8_t>(r.u8(2) & 0x0f), r.be32(5)};
}

Reserve6Cdb decode_reserve6(CdbBytes cdb) {
    CdbReader r(cdb);
    return {r.bit(1, 0), r.bit(1, 4)};
}

}  // namespace bootherd::scsi
