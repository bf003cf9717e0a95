#pragma once
// What a command handler sees: the task, the nexus, the addressed logical unit (if it exists) and helpers for
// the Data-In and Data-Out buffers.
#include <cstdint>
#include <span>

#include "block/block_device.hpp"
#include "target/scsi/logical_unit.hpp"
#include "target/scsi/task.hpp"

namespace bootherd::scsi {

struct Command {
    Task& task;
    const Nexus& nexus;
    LogicalUnit* unit;         // null when the LUN does not exist (INQUIRY, REPORT LUNS, REQUEST SENSE)
    block::Geometry geometry;  // the unit's geometry when the command started
    std::span<const std::uint64_t> luns;  // every LUN of the target, ascending
    bool nowait = false;                  // a network thread runs it: throw WouldBlock rather than wait

    std::span<const std::uint8_t> cdb() const { return task.cdb(); }
    LogicalUnit& lu() const { return *unit; }
    std::uint64_t block_count() const { return geometry.size_bytes / geometry.logical_block_size; }
    std::uint32_t block_size() const { return geometry.logical_block_size; }
    // Fails with LBA OUT OF RANGE unless [lba, lba + blocks) lies within the medium.
    void check_range(std::uint64_t lba, std::uint64_t blocks) const;
};

// Thrown by a handler running with Command::nowait when finishing would block; the command is then run again,
// from the start, on a disk thread. Nothing observable may have changed before it is thrown.
struct WouldBlock {};

// Copies parameter data into the task's Data-In buffer, truncated to the allocation length.
void respond(Task& task, std::span<const std::uint8_t> data, std::size_t allocation_length);

// The Data-Out bytes received, as unsigned bytes.
std::span<const std::uint8_t> data_out_bytes(const Task& task);

// Fails with INVALID FIELD IN INFORMATION UNIT when fewer than `needed` bytes of Data-Out arrived (the
// initiator's expected data transfer length was smaller than the CDB asks for): nothing is written in that
// case.
void require_data_out(const Task& task, std::size_t needed);

}  // namespace bootherd::scsi
