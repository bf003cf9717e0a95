#pragma once
// Task Management Function semantics (RFC 7143 §11.5, SAM-5 §7): which tasks a function aborts, on which
// sessions, and which SCSI-layer reset follows. Pure decisions; the connection carries them out.
#include <cstdint>
#include <optional>

#include "target/iscsi/pdu.hpp"
#include "target/scsi/target_device.hpp"

namespace bootherd::iscsi {

struct TmfPlan {
    TmfResponse response = TmfResponse::complete;  // when not `complete`, answer at once and do nothing else
    bool single_task = false;                      // ABORT TASK: only the referenced task of this session
    bool all_luns = false;                         // target resets
    std::uint64_t lun = 0;
    bool other_sessions = false;           // also abort the tasks of every other session of the target
    bool notify_cleared = false;           // CLEAR TASK SET: tell the device about the other nexuses
    std::optional<scsi::ResetKind> reset;  // device reset to perform once the tasks are gone
    bool close_sessions = false;           // TARGET COLD RESET drops every connection of the target
};

// `lun_exists`: the addressed LUN exists; `task_found`: ABORT TASK's referenced task is in this session and
// not yet complete; `exp_cmd_sn`: the session's ExpCmdSN.
TmfPlan plan_task_management(const TaskManagementRequest& request, bool lun_exists, bool task_found,
                             std::uint32_t exp_cmd_sn);

}  // namespace bootherd::iscsi
