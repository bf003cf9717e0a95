#include "target/scsi/opcode_table.hpp"

#include <algorithm>
#include <initializer_list>

#include "target/scsi/handlers.hpp"

namespace bootherd::scsi {
namespace {

namespace h = handlers;
using MA = MediumAccess;

constexpr std::array<std::uint8_t, 16> usage(std::initializer_list<std::uint8_t> bytes) {
    std::array<std::uint8_t, 16> u{};
    std::size_t i = 0;
    for (std::uint8_t b : bytes)
        u[i++] = b;
    return u;
}

constexpr std::uint8_t kInfo = kIgnoresUnitAttention | kAnyLun | kAllowedUnderReserve6;
constexpr std::uint8_t kIo = kNeedsBackend;
constexpr std::uint8_t kRead = kNeedsBackend | kNowaitCapable;
constexpr std::uint8_t kIoWrite = kNeedsBackend | kWritesMedium;
constexpr std::uint32_t kShort = 10;   // seconds: commands that only touch in-memory state
constexpr std::uint32_t kMedium = 60;  // seconds: commands that go to the backend

constexpr CommandDescriptor d(std::uint8_t op, Handler fn, std::uint8_t flags, MA access,
                              std::array<std::uint8_t, 16> use, std::uint32_t timeout) {
    return {op, 0, fn, flags, access, static_cast<std::uint8_t>(cdb_size_for_opcode(op)), use, timeout};
}
constexpr CommandDescriptor sa(std::uint8_t op, std::uint16_t action, Handler fn, std::uint8_t flags,
                               MA access, std::array<std::uint8_t, 16> use, std::uint32_t timeout) {
    return {op,     action,
            fn,     static_cast<std::uint8_t>(flags | kServiceAction),
            access, static_cast<std::uint8_t>(cdb_size_for_opcode(op)),
            use,    timeout};
}

constexpr std::uint8_t FF = 0xff;

// Sorted by opcode, then service action.
constexpr CommandDescriptor kCommands[] = {
    d(0x00, h::test_unit_ready, 0, MA::none, usage({0x00, 0, 0, 0, 0, 0}), kShort),
    d(0x03, h::request_sense, kInfo, MA::none, usage({0x03, 0x01, 0, 0, FF, 0}), kShort),
    d(0x08, h::read, kRead, MA::read, usage({0x08, 0x1f, FF, FF, FF, 0}), kMedium),
    d(0x0a, h::write, kIoWrite, MA::write, usage({0x0a, 0x1f, FF, FF, FF, 0}), kMedium),
    d(0x12, h::inquiry, kInfo, MA::none, usage({0x12, 0x01, FF, FF, FF, 0}), kShort),
    d(0x15, h::mode_select, 0, MA::write, usage({0x15, 0x11, 0, 0, FF, 0}), kShort),
    d(0x16, h::reserve6, kAllowedUnderReserve6, MA::none, usage({0x16, 0, 0, 0, 0, 0}), kShort),
    d(0x17, h::release6, kAllowedUnderReserve6, MA::none, usage({0x17, 0, 0, 0, 0, 0}), kShort),
    d(0x1a, h::mode_sense, 0, MA::read, usage({0x1a, 0x08, FF, FF, FF, 0}), kShort),
    d(0x1b, h::start_stop_unit, kIo, MA::write, usage({0x1b, 0x01, 0, 0, 0xf7, 0}), kMedium),
    d(0x1e, h::prevent_allow_medium_removal, 0, MA::read, usage({0x1e, 0, 0, 0, 0x03, 0}), kShort),
    d(0x25, h::read_capacity10, 0, MA::none, usage({0x25, 0, FF, FF, FF, FF, 0, 0, 0x01, 0}), kShort),
    d(0x28, h::read, kRead, MA::read, usage({0x28, 0xfa, FF, FF, FF, FF, 0, FF, FF, 0}), kMedium),
    d(0x2a, h::write, kIoWrite, MA::write, usage({0x2a, 0xfa, FF, FF, FF, FF, 0, FF, FF, 0}), kMedium),
    d(0x2e, h::write_and_verify, kIoWrite, MA::write, usage({0x2e, 0xf2, FF, FF, FF, FF, 0, FF, FF, 0}),
      kMedium),
    d(0x2f, h::verify, kIo, MA::read, usage({0x2f, 0xf6, FF, FF, FF, FF, 0, FF, FF, 0}), kMedium),
    d(0x34, h::prefetch, 0, MA::read, usage({0x34, 0x02, FF, FF, FF, FF, 0, FF, FF, 0}), kShort),
    d(0x35, h::synchronize_cache, kIo, MA::write, usage({0x35, 0x02, FF, FF, FF, FF, 0, FF, FF, 0}), kMedium),
    d(0x41, h::write_same, kIoWrite, MA::write, usage({0x41, 0xfe, FF, FF, FF, FF, 0, FF, FF, 0}), kMedium),
    d(0x42, h::unmap, kIoWrite, MA::write, usage({0x42, 0x01, 0, 0, 0, 0, 0, FF, FF, 0}), kMedium),
    d(0x55, h::mode_select, 0, MA::write, usage({0x55, 0x11, 0, 0, 0, 0, 0, FF, FF, 0}), kShort),
    d(0x5a, h::mode_sense, 0, MA::read, usage({0x5a, 0x18, FF, FF, 0, 0, 0, FF, FF, 0}), kShort),
    sa(0x5e, 0, h::persistent_reserve_in, 0, MA::none, usage({0x5e, 0x00, 0, 0, 0, 0, 0, FF, FF, 0}), kShort),
    sa(0x5e, 1, h::persistent_reserve_in, 0, MA::none, usage({0x5e, 0x01, 0, 0, 0, 0, 0, FF, FF, 0}), kShort),
    sa(0x5e, 2, h::persistent_reserve_in, 0, MA::none, usage({0x5e, 0x02, 0, 0, 0, 0, 0, FF, FF, 0}), kShort),
    sa(0x5e, 3, h::persistent_reserve_in, 0, MA::none, usage({0x5e, 0x03, 0, 0, 0, 0, 0, FF, FF, 0}), kShort),
    sa(0x5f, 0, h::persistent_reserve_out, 0, MA::none, usage({0x5f, 0x00, FF, 0, 0, FF, FF, FF, FF, 0}),
       kShort),
    sa(0x5f, 1, h::persistent_reserve_out, 0, MA::none, usage({0x5f, 0x01, FF, 0, 0, FF, FF, FF, FF, 0}),
       kShort),
    sa(0x5f, 2, h::persistent_reserve_out, 0, MA::none, usage({0x5f, 0x02, FF, 0, 0, FF, FF, FF, FF, 0}),
       kShort),
    sa(0x5f, 3, h::persistent_reserve_out, 0, MA::none, usage({0x5f, 0x03, FF, 0, 0, FF, FF, FF, FF, 0}),
       kShort),
    sa(0x5f, 4, h::persistent_reserve_out, 0, MA::none, usage({0x5f, 0x04, FF, 0, 0, FF, FF, FF, FF, 0}),
       kShort),
    sa(0x5f, 5, h::persistent_reserve_out, 0, MA::none, usage({0x5f, 0x05, FF, 0, 0, FF, FF, FF, FF, 0}),
       kShort),
    sa(0x5f, 6, h::persistent_reserve_out, 0, MA::none, usage({0x5f, 0x06, FF, 0, 0, FF, FF, FF, FF, 0}),
       kShort),
    d(0x88, h::read, kRead, MA::read,
      usage({0x88, 0xfa, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, 0, 0}), kMedium),
    d(0x89, h::compare_and_write, kIoWrite, MA::write,
      usage({0x89, 0xf8, FF, FF, FF, FF, FF, FF, FF, FF, 0, 0, 0, FF, 0, 0}), kMedium),
    d(0x8a, h::write, kIoWrite, MA::write,
      usage({0x8a, 0xfa, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, 0, 0}), kMedium),
    d(0x8b, h::or_write, kIoWrite, MA::write,
      usage({0x8b, 0xf8, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, 0, 0}), kMedium),
    d(0x8e, h::write_and_verify, kIoWrite, MA::write,
      usage({0x8e, 0xf2, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, 0, 0}), kMedium),
    d(0x8f, h::verify, kIo, MA::read,
      usage({0x8f, 0xf6, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, 0, 0}), kMedium),
    d(0x90, h::prefetch, 0, MA::read,
      usage({0x90, 0x02, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, 0, 0}), kShort),
    d(0x91, h::synchronize_cache, kIo, MA::write,
      usage({0x91, 0x02, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, 0, 0}), kMedium),
    d(0x93, h::write_same, kIoWrite, MA::write,
      usage({0x93, 0xff, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, 0, 0}), kMedium),
    sa(0x9e, service_action::read_capacity16, h::read_capacity16, 0, MA::none,
       usage({0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, FF, FF, FF, FF, 0, 0}), kShort),
    sa(0x9e, service_action::get_lba_status, h::get_lba_status, kIo, MA::read,
       usage({0x9e, 0x12, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, FF, 0, 0}), kMedium),
    d(0xa0, h::report_luns, kInfo, MA::none, usage({0xa0, 0, FF, 0, 0, 0, FF, FF, FF, FF, 0, 0}), kShort),
    sa(0xa3, service_action::report_supported_operation_codes, h::report_supported_operation_codes, 0,
       MA::none, usage({0xa3, 0x0c, 0x87, FF, FF, FF, FF, FF, FF, FF, 0, 0}), kShort),
    d(0xa8, h::read, kRead, MA::read, usage({0xa8, 0xfa, FF, FF, FF, FF, FF, FF, FF, FF, 0, 0}), kMedium),
    d(0xaa, h::write, kIoWrite, MA::write, usage({0xaa, 0xfa, FF, FF, FF, FF, FF, FF, FF, FF, 0, 0}),
      kMedium),
    d(0xae, h::write_and_verify, kIoWrite, MA::write,
      usage({0xae, 0xf2, FF, FF, FF, FF, FF, FF, FF, FF, 0, 0}), kMedium),
    d(0xaf, h::verify, kIo, MA::read, usage({0xaf, 0xf6, FF, FF, FF, FF, FF, FF, FF, FF, 0, 0}), kMedium),
};

struct Slot {
    std::uint8_t first = 0;
    std::uint8_t count = 0;
};

// The 256-entry dispatch index: for each opcode, where its descriptors start in kCommands and how many.
constexpr std::array<Slot, 256> build_index() {
    std::array<Slot, 256> index{};
    for (std::size_t i = 0; i < std::size(kCommands); ++i) {
        Slot& s = index[kCommands[i].opcode];
        if (s.count == 0) s.first = static_cast<std::uint8_t>(i);
        ++s.count;
    }
    return index;
}

constexpr bool table_is_consistent() {
    for (std::size_t i = 0; i < std::size(kCommands); ++i) {
        const auto& c = kCommands[i];
        if (c.cdb_size == 0 || c.usage[0] != c.opcode) return false;
        if (i > 0) {
            const auto& p = kCommands[i - 1];
            if (p.opcode > c.opcode) return false;
            if (p.opcode == c.opcode &&
                (!p.has(kServiceAction) || !c.has(kServiceAction) || p.service_action >= c.service_action))
                return false;
        }
    }
    return true;
}
static_assert(table_is_consistent(), "kCommands must be sorted, one entry per opcode/service action");
static_assert(std::size(kCommands) < 256);

constexpr std::array<Slot, 256> kIndex = build_index();

}  // namespace

std::span<const CommandDescriptor> command_table() {
    return kCommands;
}

std::span<const CommandDescriptor> commands_for_opcode(std::uint8_t opcode) {
    const Slot s = kIndex[opcode];
    return std::span<const CommandDescriptor>(kCommands).subspan(s.first, s.count);
}

const CommandDescriptor* find_command(CdbBytes cdb) {
    if (cdb.empty()) return nullptr;
    const auto candidates = commands_for_opcode(cdb[0]);
    if (candidates.empty()) return nullptr;
    if (!candidates.front().has(kServiceAction)) return &candidates.front();
    const std::uint16_t action = decode_service_action(cdb);
    for (const auto& c : candidates) {
        if (c.service_action == action) return &c;
    }
    fail_invalid_field_in_cdb(1, 4);
}

}  // namespace bootherd::scsi
