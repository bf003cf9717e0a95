#pragma once
// CDB decoding: the one place where the untrusted CDB bytes are read. Every decoder takes the CDB as received
// and checks its length against the opcode's CDB size before reading a field (short CDB -> INVALID FIELD IN
// CDB). Decoders reject reserved/unsupported encodings that the field layout alone can tell; range checks
// against the logical unit happen in the handlers.
#include <cstdint>
#include <optional>
#include <span>

namespace bootherd::scsi {

using CdbBytes = std::span<const std::uint8_t>;

namespace opcode {
inline constexpr std::uint8_t test_unit_ready = 0x00;
inline constexpr std::uint8_t request_sense = 0x03;
inline constexpr std::uint8_t read6 = 0x08;
inline constexpr std::uint8_t write6 = 0x0a;
inline constexpr std::uint8_t inquiry = 0x12;
inline constexpr std::uint8_t mode_select6 = 0x15;
inline constexpr std::uint8_t reserve6 = 0x16;
inline constexpr std::uint8_t release6 = 0x17;
inline constexpr std::uint8_t mode_sense6 = 0x1a;
inline constexpr std::uint8_t start_stop_unit = 0x1b;
inline constexpr std::uint8_t prevent_allow_medium_removal = 0x1e;
inline constexpr std::uint8_t read_capacity10 = 0x25;
inline constexpr std::uint8_t read10 = 0x28;
inline constexpr std::uint8_t write10 = 0x2a;
inline constexpr std::uint8_t write_and_verify10 = 0x2e;
inline constexpr std::uint8_t verify10 = 0x2f;
inline constexpr std::uint8_t prefetch10 = 0x34;
inline constexpr std::uint8_t synchronize_cache10 = 0x35;
inline constexpr std::uint8_t write_same10 = 0x41;
inline constexpr std::uint8_t unmap = 0x42;
inline constexpr std::uint8_t mode_select10 = 0x55;
inline constexpr std::uint8_t mode_sense10 = 0x5a;
inline constexpr std::uint8_t persistent_reserve_in = 0x5e;
inline constexpr std::uint8_t persistent_reserve_out = 0x5f;
inline constexpr std::uint8_t read16 = 0x88;
inline constexpr std::uint8_t compare_and_write = 0x89;
inline constexpr std::uint8_t write16 = 0x8a;
inline constexpr std::uint8_t or_write16 = 0x8b;
inline constexpr std::uint8_t write_and_verify16 = 0x8e;
inline constexpr std::uint8_t verify16 = 0x8f;
inline constexpr std::uint8_t prefetch16 = 0x90;
inline constexpr std::uint8_t synchronize_cache16 = 0x91;
inline constexpr std::uint8_t write_same16 = 0x93;
inline constexpr std::uint8_t service_action_in16 = 0x9e;
inline constexpr std::uint8_t report_luns = 0xa0;
inline constexpr std::uint8_t maintenance_in = 0xa3;
inline constexpr std::uint8_t read12 = 0xa8;
inline constexpr std::uint8_t write12 = 0xaa;
inline constexpr std::uint8_t write_and_verify12 = 0xae;
inline constexpr std::uint8_t verify12 = 0xaf;
}  // namespace opcode

namespace service_action {
inline constexpr std::uint16_t read_capacity16 = 0x10;
inline constexpr std::uint16_t get_lba_status = 0x12;
inline constexpr std::uint16_t report_supported_operation_codes = 0x0c;
}  // namespace service_action

// CDB size implied by the opcode's group code (SAM-5 5.2); 0 for groups this target has no commands in.
constexpr std::size_t cdb_size_for_opcode(std::uint8_t op) {
    switch (op >> 5) {
        case 0:
            return 6;
        case 1:
        case 2:
            return 10;
        case 4:
            return 16;
        case 5:
            return 12;
        default:
            return 0;
    }
}

// The SERVICE ACTION field (byte 1, bits 4..0) of a CDB of at least two bytes.
std::uint16_t decode_service_action(CdbBytes cdb);

// NACA bit of the CONTROL byte (last byte of the CDB); this target does not support ACA.
bool control_byte_has_naca(CdbBytes cdb);

// Bytes of Data-Out the CDB asks for (SPDTL), for the transport's residual accounting; nullopt for commands
// without Data-Out or a CDB too short to say. Saturates at UINT32_MAX.
std::optional<std::uint32_t> data_out_length_of(CdbBytes cdb, std::uint32_t block_size);

// READ / WRITE / VERIFY / WRITE AND VERIFY / ORWRITE in their 6-, 10-, 12- and 16-byte forms (and PRE-FETCH,
// SYNCHRONIZE CACHE, which share the LBA/length layout).
struct BlockCommandCdb {
    std::uint64_t lba = 0;
    std::uint32_t blocks = 0;
    std::uint8_t protect = 0;  // RDPROTECT / WRPROTECT / VRPROTECT
    bool dpo = false;
    bool fua = false;
    std::uint8_t bytchk = 0;  // VERIFY / WRITE AND VERIFY
    bool immed = false;       // SYNCHRONIZE CACHE / PRE-FETCH
};
BlockCommandCdb decode_block_command(CdbBytes cdb);

struct WriteSameCdb {
    std::uint64_t lba = 0;
    std::uint32_t blocks = 0;
    std::uint8_t wrprotect = 0;
    bool anchor = false;
    bool unmap = false;
    bool pbdata = false;
    bool lbdata = false;
    bool ndob = false;
};
WriteSameCdb decode_write_same(CdbBytes cdb);

struct CompareAndWriteCdb {
    std::uint64_t lba = 0;
    std::uint8_t blocks = 0;
    std::uint8_t wrprotect = 0;
    bool fua = false;
};
CompareAndWriteCdb decode_compare_and_write(CdbBytes cdb);

struct InquiryCdb {
    bool evpd = false;
    std::uint8_t page_code = 0;
    std::uint16_t allocation_length = 0;
};
InquiryCdb decode_inquiry(CdbBytes cdb);

struct RequestSenseCdb {
    bool descriptor_format = false;
    std::uint8_t allocation_length = 0;
};
RequestSenseCdb decode_request_sense(CdbBytes cdb);

struct ReportLunsCdb {
    std::uint8_t select_report = 0;
    std::uint32_t allocation_length = 0;
};
ReportLunsCdb decode_report_luns(CdbBytes cdb);

struct ReadCapacity10Cdb {
    std::uint32_t lba = 0;
    bool pmi = false;
};
ReadCapacity10Cdb decode_read_capacity10(CdbBytes cdb);

// SERVICE ACTION IN(16) forms: READ CAPACITY(16) and GET LBA STATUS.
struct ServiceActionIn16Cdb {
    std::uint64_t lba = 0;
    std::uint32_t allocation_length = 0;
};
ServiceActionIn16Cdb decode_service_action_in16(CdbBytes cdb);

enum class PageControl : std::uint8_t { current = 0, changeable = 1, default_values = 2, saved = 3 };

struct ModeSenseCdb {
    bool long_form = false;  // MODE SENSE(10)
    bool disable_block_descriptors = false;
    bool long_lba_accepted = false;
    PageControl page_control = PageControl::current;
    std::uint8_t page_code = 0;
    std::uint8_t subpage_code = 0;
    std::uint16_t allocation_length = 0;
};
ModeSenseCdb decode_mode_sense(CdbBytes cdb);

struct ModeSelectCdb {
    bool long_form = false;  // MODE SELECT(10)
    bool page_format = false;
    bool save_pages = false;
    std::uint16_t parameter_list_length = 0;
};
ModeSelectCdb decode_mode_select(CdbBytes cdb);

struct StartStopUnitCdb {
    bool immed = false;
    std::uint8_t power_condition = 0;
    bool load_eject = false;
    bool start = false;
};
StartStopUnitCdb decode_start_stop_unit(CdbBytes cdb);

struct PreventAllowCdb {
    std::uint8_t prevent = 0;
};
PreventAllowCdb decode_prevent_allow(CdbBytes cdb);

struct UnmapCdb {
    bool anchor = false;
    std::uint16_t parameter_list_length = 0;
};
UnmapCdb decode_unmap(CdbBytes cdb);

struct ReportOpcodesCdb {
    bool return_timeouts = false;  // RCTD
    std::uint8_t reporting_options = 0;
    std::uint8_t requested_opcode = 0;
    std::uint16_t requested_service_action = 0;
    std::uint32_t allocation_length = 0;
};
ReportOpcodesCdb decode_report_opcodes(CdbBytes cdb);

struct PersistentReserveInCdb {
    std::uint8_t service_action = 0;
    std::uint16_t allocation_length = 0;
};
PersistentReserveInCdb decode_persistent_reserve_in(CdbBytes cdb);

struct PersistentReserveOutCdb {
    std::uint8_t service_action = 0;
    std::uint8_t scope = 0;
    std::uint8_t type = 0;
    std::uint32_t parameter_list_length = 0;
};
PersistentReserveOutCdb decode_persistent_reserve_out(CdbBytes cdb);

struct Reserve6Cdb {
    bool extent = false;
    bool third_party = false;
};
Reserve6Cdb decode_reserve6(CdbBytes cdb);

}  // namespace bootherd::scsi
