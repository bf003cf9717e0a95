// REPORT SUPPORTED OPERATION CODES (SPC-4 6.35), generated from the opcode table.
#include <vector>

#include "common/bytes.hpp"
#include "target/scsi/cdb.hpp"
#include "target/scsi/handlers.hpp"
#include "target/scsi/opcode_table.hpp"

namespace bootherd::scsi::handlers {
namespace {

constexpr std::uint8_t kAllCommands = 0;
constexpr std::uint8_t kOneCommand = 1;
constexpr std::uint8_t kOneCommandWithServiceAction = 2;
constexpr std::uint8_t kOneCommandEitherForm = 3;

void append_timeouts(std::vector<std::uint8_t>& out, const CommandDescriptor& d) {
    std::uint8_t t[12] = {};
    store_be<std::uint16_t>(t, 0x000a);
    store_be<std::uint32_t>(t + 8, d.recommended_timeout_s);  // nominal timeout (bytes 4..7) not specified
    out.insert(out.end(), t, t + 12);
}

std::vector<std::uint8_t> all_commands(bool timeouts) {
    std::vector<std::uint8_t> out(4, 0);
    for (const auto& d : command_table()) {
        std::uint8_t e[8] = {};
        e[0] = d.opcode;
        store_be<std::uint16_t>(e + 2, d.service_action);
        e[5] = static_cast<std::uint8_t>((timeouts ? 0x02 : 0) | (d.has(kServiceAction) ? 0x01 : 0));
        store_be<std::uint16_t>(e + 6, d.cdb_size);
        out.insert(out.end(), e, e + 8);
        if (timeouts) append_timeouts(out, d);
    }
    store_be<std::uint32_t>(out.data(), static_cast<std::uint32_t>(out.size() - 4));
    return out;
}

std::vector<std::uint8_t> one_command(const ReportOpcodesCdb& cdb) {
    const auto candidates = commands_for_opcode(cdb.requested_opcode);
    const bool has_actions = !candidates.empty() && candidates.front().has(kServiceAction);
    if (cdb.reporting_options == kOneCommand && has_actions) fail_invalid_field_in_cdb(2, 2);
    if (cdb.reporting_options == kOneCommandWithServiceAction && !candidates.empty() && !has_actions)
        fail_invalid_field_in_cdb(2, 2);
    const bool by_action = cdb.reporting_options == kOneCommandWithServiceAction ||
                           (cdb.reporting_options == kOneCommandEitherForm && has_actions);

    const CommandDescriptor* found = nullptr;
    for (const auto& d : candidates) {
        if (!by_action || d.service_action == cdb.requested_service_action) {
            found = &d;
            break;
        }
    }
    std::vector<std::uint8_t> out(4, 0);
    if (found == nullptr) {
        out[1] = 0x01;  // SUPPORT: not supported
        return out;
    }
    out[1] = static_cast<std::uint8_t>((cdb.return_timeouts ? 0x80 : 0) | 0x03);  // CTDP, SUPPORT: standard
    store_be<std::uint16_t>(out.data() + 2, found->cdb_size);
    out.insert(out.end(), found->usage.begin(), found->usage.begin() + found->cdb_size);
    if (cdb.return_timeouts) append_timeouts(out, *found);
    return out;
}

}  // namespace

void report_supported_operation_codes(Command& c) {
    const auto cdb = decode_report_opcodes(c.cdb());
    std::vector<std::uint8_t> out;
    switch (cdb.reporting_options) {
        case kAllCommands:
            out = all_commands(cdb.return_timeouts);
            break;
        case kOneCommand:
        case kOneCommandWithServiceAction:
        case kOneCommandEitherForm:
            out = one_command(cdb);
            break;
        default:
            fail_invalid_field_in_cdb(2, 2);
    }
    respond(c.task, out, cdb.allocation_length);
}

}  // namespace bootherd::scsi::handlers
