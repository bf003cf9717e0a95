// Runs a sequence of random commands (CDB + Data-Out, from one of two initiators, to LUN 0 or a missing LUN)
// through a target device over a small in-memory thin disk, with resets and attaches mixed in.
//
// Input: records of [control(1) cdb(16) data_length(2, big-endian) data(data_length)] until the input ends.
// control bit 0: nexus; bit 1: missing LUN; bits 2-3: 1 = LUN reset, 2 = clear task set, 3 = re-attach.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "common/bytes.hpp"
#include "target/scsi/target_device.hpp"
#include "tests/unit/scsi/memory_block_device.hpp"

using namespace bootherd;
using namespace bootherd::scsi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto disk = std::make_shared<scsi::testing::MemoryBlockDevice>(64, 512, true);
    std::vector<LogicalUnitConfig> luns(1);
    luns[0].backend = disk;
    luns[0].serial = "FUZZ";
    luns[0].naa_id = 1;
    auto target = make_target_device(std::move(luns));
    Nexus nexus[2];
    for (int i = 0; i < 2; ++i) {
        nexus[i].id = static_cast<std::uint64_t>(i + 1);
        nexus[i].initiator_name = "iqn.2026-01.fuzz:" + std::to_string(i);
        nexus[i].initiator_port = nexus[i].initiator_name + ",i,0x00000000000" + std::to_string(i);
        target->attach(nexus[i]);
    }

    Task task;
    std::size_t at = 0;
    while (size - at >= 19) {
        const std::uint8_t control = data[at];
        const Nexus& n = nexus[control & 1];
        task.reset();
        std::memcpy(task.cdb_bytes.data(), data + at + 1, 16);
        task.cdb_length = 16;
        task.lun = (control & 2) ? 5 : 0;
        task.nexus = &n;
        const std::size_t length = load_be<std::uint16_t>(data + at + 17);
        at += 19;
        const std::size_t available = std::min(length, size - at);
        task.expected_length = static_cast<std::uint32_t>(available == 0 ? 4096 : available);
        task.read_flag = available == 0;
        task.write_flag = available != 0;
        if (available != 0) {
            std::memcpy(task.data_out_buffer(available).data(), data + at, available);
            task.data_out_length = static_cast<std::uint32_t>(available);
        }
        at += available;
        (void)target->runs_inline(task);
        target->execute(task);
        if (task.status == Status::check_condition &&
            (task.sense_length < 8 || task.sense_length > Task::kSenseSize))
            __builtin_trap();
        switch ((control >> 2) & 3) {
            case 1:
                target->reset(ResetKind::logical_unit, 0, n);
                break;
            case 2:
                target->tasks_cleared(0, n, nexus[(control & 1) ^ 1].id);
                break;
            case 3:
                target->detach(n.id);
                target->attach(n);
                break;
            default:
                break;
        }
    }
    return 0;
}
