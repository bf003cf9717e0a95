#pragma once
// The contract between the transport (iSCSI) and the SCSI command set.
//
// The transport owns a fixed pool of Task objects per session and reuses them: a Task's buffer only ever
// grows, so the steady-state I/O path allocates nothing. For a command the transport:
//   1. calls reset(), fills cdb/lun/expected_length/direction/attribute and the nexus;
//   2. for writes, calls data_out_buffer(expected_length) and receives the Data-Out bytes into it, then sets
//      data_out_length to what actually arrived;
//   3. asks TargetDevice::runs_inline(task): true means the command never touches the backend and may run on
//   the
//      network thread; otherwise it runs execute() on a disk thread;
//   4. sends data_in() (possibly truncated to expected_length, with the residual) and the status/sense.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/page_aligned.hpp"

namespace bootherd::scsi {

enum class Status : std::uint8_t {
    good = 0x00,
    check_condition = 0x02,
    condition_met = 0x04,
    busy = 0x08,
    reservation_conflict = 0x18,
    task_set_full = 0x28,
    aca_active = 0x30,
    task_aborted = 0x40,
};

enum class TaskAttribute : std::uint8_t { untagged = 0, simple = 1, ordered = 2, head_of_queue = 3, aca = 4 };

// One I_T nexus: an initiator port talking to a target port. Reservations and unit attentions are kept per
// nexus.
struct Nexus {
    std::uint64_t id = 0;        // unique within the process for the life of the session
    std::string initiator_name;  // iSCSI name, e.g. iqn.2007-10.com.github:sahlberg:libiscsi:iscsi-test
    std::uint64_t isid = 0;      // 48-bit ISID
    std::string initiator_port;  // SPC-4 iSCSI TransportID form: "<name>,i,0x<isid in 12 hex digits>"
    std::uint16_t relative_target_port = 1;
};

class Task {
  public:
    static constexpr std::size_t kMaxCdb = 260;  // 16 in the BHS plus an extended-CDB AHS
    static constexpr std::size_t kSenseSize = 252;

    // --- inputs, set by the transport ---
    std::array<std::uint8_t, kMaxCdb> cdb_bytes{};
    std::size_t cdb_length = 0;
    std::uint64_t lun = 0;              // LUN number (already decoded from the 8-byte LUN field)
    std::uint32_t expected_length = 0;  // Expected Data Transfer Length from the initiator
    bool read_flag = false;             // R bit: the initiator expects Data-In
    bool write_flag = false;            // W bit: the initiator sends Data-Out
    TaskAttribute attribute = TaskAttribute::simple;
    const Nexus* nexus = nullptr;
    std::uint32_t data_out_length = 0;  // bytes of Data-Out actually received (<= expected_length)

    // --- outputs, set by the SCSI layer ---
    Status status = Status::good;
    std::uint32_t data_in_length =
        0;  // bytes produced in data_in(); the transport truncates to expected_length
    std::array<std::uint8_t, kSenseSize> sense{};
    std::size_t sense_length = 0;
    // For commands that take Data-Out: the bytes the CDB itself asks for (SPDTL), set by the SCSI layer
    // whether or not the command succeeds. The transport reports write residuals against it (RFC 7143
    // §11.4.5.2): overflow when expected_length < SPDTL, underflow when expected_length > SPDTL. Unset:
    // judged by data_out_length.
    std::optional<std::uint32_t> cdb_data_out_length;

    std::span<const std::uint8_t> cdb() const { return {cdb_bytes.data(), cdb_length}; }

    // Clears the per-command fields; keeps the buffer's capacity.
    void reset() {
        cdb_length = 0;
        lun = 0;
        expected_length = 0;
        read_flag = write_flag = false;
        attribute = TaskAttribute::simple;
        nexus = nullptr;
        data_out_length = 0;
        status = Status::good;
        data_in_length = 0;
        sense_length = 0;
        cdb_data_out_length.reset();
    }

    // Space for the Data-Out payload; grows the buffer when needed.
    std::span<std::byte> data_out_buffer(std::size_t size) { return grow(size); }
    std::span<const std::byte> data_out() const { return {buffer_.data(), data_out_length}; }

    // Space for n bytes of Data-In, zero-filled only where the buffer had to grow (callers write all n bytes
    // or call data_in_zeroed). Sets data_in_length = n.
    std::span<std::byte> data_in(std::size_t n) {
        data_in_length = static_cast<std::uint32_t>(n);
        return grow(n);
    }
    std::span<const std::byte> data_in_view() const { return {buffer_.data(), data_in_length}; }

    std::size_t buffer_capacity() const { return buffer_.size(); }

  private:
    std::span<std::byte> grow(std::size_t n) {
        if (buffer_.size() < n) buffer_.resize(n);
        return {buffer_.data(), n};
    }
    // Page-aligned: a flat file written with O_DIRECT takes Data-Out straight from here.
    std::vector<std::byte, PageAlignedAllocator<std::byte>> buffer_;
};

}  // namespace bootherd::scsi
