#pragma once
// The command set as data: one descriptor per supported opcode (or opcode + service action), with the
// handler, how and where it runs, the checks the dispatcher applies before it, and the CDB usage data
// reported by REPORT SUPPORTED OPERATION CODES.
#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "target/scsi/cdb.hpp"
#include "target/scsi/command.hpp"
#include "target/scsi/persistent_reservations.hpp"

namespace bootherd::scsi {

using Handler = void (*)(Command&);

enum CommandFlag : std::uint8_t {
    kNeedsBackend = 1u << 0,          // touches the backend: runs on a disk thread, never inline
    kWritesMedium = 1u << 1,          // refused on write-protected logical units
    kIgnoresUnitAttention = 1u << 2,  // INQUIRY, REPORT LUNS, REQUEST SENSE (SAM-5 5.14)
    kAnyLun = 1u << 3,                // also runs for a LUN that does not exist
    kAllowedUnderReserve6 = 1u << 4,  // not blocked by another nexus's RESERVE(6)
    kServiceAction = 1u << 5,         // selected by opcode and service action
    kNowaitCapable = 1u << 6,         // may complete on a network thread when the backend need not block
};

struct CommandDescriptor {
    std::uint8_t opcode = 0;
    std::uint16_t service_action = 0;  // meaningful with kServiceAction
    Handler handler = nullptr;
    std::uint8_t flags = 0;
    MediumAccess access = MediumAccess::none;  // for persistent reservation conflicts
    std::uint8_t cdb_size = 0;
    std::array<std::uint8_t, 16> usage{};  // CDB usage data: the bits this target evaluates
    std::uint32_t recommended_timeout_s = 0;

    constexpr bool has(CommandFlag f) const { return (flags & f) != 0; }
};

std::span<const CommandDescriptor> command_table();

// The descriptor for a CDB; nullptr when the opcode is not supported; throws INVALID FIELD IN CDB when
// the opcode is supported but its service action is not.
const CommandDescriptor* find_command(CdbBytes cdb);

// Descriptors of one opcode (several when it has service actions); empty when unsupported.
std::span<const CommandDescriptor> commands_for_opcode(std::uint8_t opcode);

}  // namespace bootherd::scsi
