// Commands about the logical unit as a whole: TEST UNIT READY, REQUEST SENSE, REPORT LUNS, START STOP UNIT,
// PREVENT ALLOW MEDIUM REMOVAL, MODE SENSE and MODE SELECT.
#include <array>
#include <vector>

#include "common/bytes.hpp"
#include "target/scsi/cdb.hpp"
#include "target/scsi/handlers.hpp"

namespace bootherd::scsi::handlers {

void test_unit_ready(Command&) {}

void request_sense(Command& c) {
    const auto cdb = decode_request_sense(c.cdb());
    SenseData sense{};
    if (c.unit == nullptr) {
        sense = {SenseKey::illegal_request, asc::logical_unit_not_supported, std::nullopt, std::nullopt};
    } else if (auto ua = c.lu().unit_attentions().take(c.nexus.id)) {
        sense = {SenseKey::unit_attention, *ua, std::nullopt, std::nullopt};
    }
    std::array<std::uint8_t, 32> data{};
    const std::size_t n =
        encode_sense(sense, cdb.descriptor_format ? SenseFormat::descriptor : SenseFormat::fixed, data);
    respond(c.task, std::span(data).first(n), cdb.allocation_length);
}

void report_luns(Command& c) {
    const auto cdb = decode_report_luns(c.cdb());
    if (cdb.select_report > 0x02) fail_invalid_field_in_cdb(2);
    if (cdb.allocation_length < 16) fail_invalid_field_in_cdb(6);
    const bool well_known_only = cdb.select_report == 0x01;  // this target has no well-known logical units
    const std::size_t count = well_known_only ? 0 : c.luns.size();
    std::vector<std::uint8_t> out(8 + 8 * count, 0);
    store_be<std::uint32_t>(out.data(), static_cast<std::uint32_t>(8 * count));
    for (std::size_t i = 0; i < count; ++i) {
        std::uint8_t* entry = out.data() + 8 + 8 * i;
        const std::uint64_t lun = c.luns[i];
        if (lun < 256) {
            entry[1] = static_cast<std::uint8_t>(lun);  // peripheral device addressing
        } else if (lun < 16384) {
            store_be<std::uint16_t>(entry,
                                    static_cast<std::uint16_t>(0x4000 | lun));  // flat space addressing
        } else {
            store_be<std::uint64_t>(entry, lun);  // already an encoded eight-byte LUN
        }
    }
    respond(c.task, out, cdb.allocation_length);
}

void start_stop_unit(Command& c) {
    const auto cdb = decode_start_stop_unit(c.cdb());
    switch (cdb.power_condition) {
        case 0x0:  // START_VALID
        case 0x1:  // ACTIVE
        case 0x2:  // IDLE
        case 0x3:  // STANDBY
        case 0x7:  // LU_CONTROL
        case 0xa:  // FORCE_IDLE_0
        case 0xb:
            break;  // FORCE_STANDBY_0
        default:
            fail_invalid_field_in_cdb(4, 7);
    }
    // The medium is not removable, so LOEJ has nothing to eject; stopping makes cached writes durable.
    if (cdb.power_condition == 0 && !cdb.start) check_backend(c.lu().backend().flush(), IoKind::write);
}

void prevent_allow_medium_removal(Command& c) {
    const auto cdb = decode_prevent_allow(c.cdb());
    // 10b and 11b are for media changers. The medium is not removable, so there is nothing to lock.
    if (cdb.prevent > 1) fail_invalid_field_in_cdb(4, 1);
}

void mode_sense(Command& c) {
    const auto cdb = decode_mode_sense(c.cdb());
    const bool write_protected = c.lu().config().read_only || c.geometry.read_only;
    const auto data = c.lu().mode_pages().sense(cdb, c.geometry, write_protected);
    respond(c.task, data, cdb.allocation_length);
}

void mode_select(Command& c) {
    const auto cdb = decode_mode_select(c.cdb());
    c.lu().mode_pages().select(cdb, data_out_bytes(c.task), c.geometry);
    if (cdb.parameter_list_length != 0)
        c.lu().unit_attentions().establish_all(asc::mode_parameters_changed, c.nexus.id);
}

}  // namespace bootherd::scsi::handlers
