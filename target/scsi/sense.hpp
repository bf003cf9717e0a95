#pragma once
// Sense data (SPC-4 4.5): the codes this target reports, the error type command handlers throw, and the
// encoder for the fixed (70h) and descriptor (72h) formats.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <span>

#include "target/scsi/task.hpp"

namespace bootherd::scsi {

enum class SenseKey : std::uint8_t {
    no_sense = 0x0,
    not_ready = 0x2,
    medium_error = 0x3,
    hardware_error = 0x4,
    illegal_request = 0x5,
    unit_attention = 0x6,
    data_protect = 0x7,
    aborted_command = 0xb,
    miscompare = 0xe,
};

// Additional sense code and qualifier.
struct Asc {
    std::uint8_t code = 0;
    std::uint8_t qualifier = 0;
    friend bool operator==(const Asc&, const Asc&) = default;
};

namespace asc {
inline constexpr Asc no_additional_sense{0x00, 0x00};
inline constexpr Asc not_ready_cause_not_reportable{0x04, 0x00};
inline constexpr Asc write_error{0x0c, 0x00};
inline constexpr Asc invalid_field_in_information_unit{0x0e, 0x03};
inline constexpr Asc unrecovered_read_error{0x11, 0x00};
inline constexpr Asc parameter_list_length_error{0x1a, 0x00};
inline constexpr Asc miscompare_during_verify{0x1d, 0x00};
inline constexpr Asc invalid_command_operation_code{0x20, 0x00};
inline constexpr Asc lba_out_of_range{0x21, 0x00};
inline constexpr Asc invalid_field_in_cdb{0x24, 0x00};
inline constexpr Asc logical_unit_not_supported{0x25, 0x00};
inline constexpr Asc invalid_field_in_parameter_list{0x26, 0x00};
inline constexpr Asc invalid_release_of_persistent_reservation{0x26, 0x04};
inline constexpr Asc write_protected{0x27, 0x00};
inline constexpr Asc software_write_protected{0x27, 0x02};
inline constexpr Asc space_allocation_failed_write_protect{0x27, 0x07};
inline constexpr Asc power_on_reset{0x29, 0x00};
inline constexpr Asc bus_reset{0x29, 0x02};
inline constexpr Asc bus_device_reset_function{0x29, 0x03};
inline constexpr Asc mode_parameters_changed{0x2a, 0x01};
inline constexpr Asc reservations_preempted{0x2a, 0x03};
inline constexpr Asc reservations_released{0x2a, 0x04};
inline constexpr Asc registrations_preempted{0x2a, 0x05};
inline constexpr Asc capacity_data_changed{0x2a, 0x09};
inline constexpr Asc commands_cleared_by_another_initiator{0x2f, 0x00};
inline constexpr Asc saving_parameters_not_supported{0x39, 0x00};
inline constexpr Asc medium_not_present{0x3a, 0x00};
inline constexpr Asc internal_target_failure{0x44, 0x00};
inline constexpr Asc protocol_service_crc_error{0x47, 0x05};
}  // namespace asc

// Sense-key specific field pointer (SPC-4 4.5.2.4.2): which byte (and bit) of the CDB or parameter list was
// bad.
struct FieldPointer {
    bool in_cdb = true;
    std::uint16_t byte = 0;
    std::optional<std::uint8_t> bit;
};

struct SenseData {
    SenseKey key = SenseKey::no_sense;
    Asc asc{};
    std::optional<std::uint64_t> information;
    std::optional<FieldPointer> field;
};

enum class SenseFormat { fixed, descriptor };

// Encodes sense data; returns the number of bytes written (18 fixed, 8..32 descriptor). out needs >= 32
// bytes.
std::size_t encode_sense(const SenseData& sense, SenseFormat format, std::span<std::uint8_t> out);

// Thrown by command handlers; the dispatcher turns it into the task's status and sense data.
class CommandError : public std::exception {
  public:
    explicit CommandError(SenseData sense) : status_(Status::check_condition), sense_(sense) {}
    static CommandError reservation_conflict() { return CommandError(Status::reservation_conflict); }

    Status status() const { return status_; }
    const SenseData& sense() const { return sense_; }
    const char* what() const noexcept override { return "SCSI command terminated"; }

  private:
    explicit CommandError(Status status) : status_(status) {}
    Status status_;
    SenseData sense_{};
};

[[noreturn]] void fail(SenseKey key, Asc code);
[[noreturn]] void fail_invalid_field_in_cdb(std::uint16_t byte,
                                            std::optional<std::uint8_t> bit = std::nullopt);
[[noreturn]] void fail_invalid_field_in_parameter_list(std::uint16_t byte,
                                                       std::optional<std::uint8_t> bit = std::nullopt);
[[noreturn]] void fail_lba_out_of_range();
[[noreturn]] void fail_reservation_conflict();
[[noreturn]] void fail_miscompare(std::uint64_t offset);

// Sets CHECK CONDITION with the given sense on the task.
void set_check_condition(Task& task, const SenseData& sense, SenseFormat format);

}  // namespace bootherd::scsi
