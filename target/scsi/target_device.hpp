#pragma once
// A SCSI target device: the set of logical units one iSCSI target node exposes, and the command dispatcher.
// Implemented by the SCSI layer (target/scsi/); used by the transport (target/iscsi/).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "block/block_device.hpp"
#include "target/scsi/task.hpp"

namespace bootherd::scsi {

struct LogicalUnitConfig {
    std::uint64_t lun = 0;
    std::shared_ptr<block::BlockDevice> backend;
    std::string serial;  // VPD 80; stable for the life of the disk
    std::uint64_t naa_id =
        0;                   // VPD 83 NAA IEEE Registered designator (type 6, 16 bytes: this is the low part)
    bool read_only = false;  // forced read-only even if the backend is writable
};

// Why a reset or clear happened, for the unit attention it leaves behind.
enum class ResetKind { logical_unit, target_warm, target_cold };

class TargetDevice {
  public:
    virtual ~TargetDevice() = default;

    // Registers / forgets an I_T nexus (session login / logout). attach() queues the power-on unit attention.
    virtual void attach(const Nexus& nexus) = 0;
    virtual void detach(std::uint64_t nexus_id) = 0;

    // True if the command neither touches a backend nor blocks: the transport may run it on a network thread.
    virtual bool runs_inline(const Task& task) const = 0;

    // Executes one command to completion. Thread-safe; may block on the backend.
    virtual void execute(Task& task) = 0;

    // Executes a command that needs the backend only if it can finish without blocking (a read of data
    // already in memory). Returns false, with nothing observable changed, when the caller must use execute()
    // on a disk thread instead.
    virtual bool try_execute_nowait(Task& task) = 0;

    // Ends a command whose Data-Out the transport could not take intact, without running it: CHECK CONDITION,
    // ABORTED COMMAND / PROTOCOL SERVICE CRC ERROR (RFC 7143 §11.4.7.2), in the unit's sense format.
    virtual void fail_delivery(Task& task) = 0;

    // Task management effects that belong to the SCSI layer (the transport aborts the tasks themselves).
    virtual void reset(ResetKind kind, std::uint64_t lun, const Nexus& by) = 0;
    // Another nexus's tasks were cleared by CLEAR TASK SET / ABORT TASK SET from `by` (SAM: UA 2Fh/00h).
    virtual void tasks_cleared(std::uint64_t lun, const Nexus& by, std::uint64_t victim_nexus_id) = 0;

    virtual bool has_lun(std::uint64_t lun) const = 0;

    // Flushes every backend (graceful shutdown). False when a flush failed (logged): writes acknowledged
    // since the last good flush may not be durable.
    [[nodiscard]] virtual bool flush_all() = 0;
};

std::unique_ptr<TargetDevice> make_target_device(std::vector<LogicalUnitConfig> luns);

}  // namespace bootherd::scsi
