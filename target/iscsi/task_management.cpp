#include "target/iscsi/task_management.hpp"

#include "target/iscsi/session.hpp"

namespace bootherd::iscsi {

TmfPlan plan_task_management(const TaskManagementRequest& request, bool lun_exists, bool task_found,
                             std::uint32_t exp_cmd_sn) {
    TmfPlan plan;
    plan.lun = decode_lun(request.lun);
    const auto lun_scoped = [&](TmfPlan p) {
        if (!lun_exists) p.response = TmfResponse::lun_does_not_exist;
        return p;
    };
    switch (static_cast<TmfFunction>(request.function)) {
        case TmfFunction::abort_task:
            plan.single_task = true;
            // RFC 7143 §11.6.1: a task not received yet (RefCmdSN still inside the window, before this
            // request) counts as aborted; one already completed does not exist any more.
            if (!task_found && !(serial_less_equal(exp_cmd_sn, request.ref_cmd_sn) &&
                                 serial_less_equal(request.ref_cmd_sn, request.cmd_sn) &&
                                 request.ref_cmd_sn != request.cmd_sn))
                plan.response = TmfResponse::task_does_not_exist;
            return plan;
        case TmfFunction::abort_task_set:
            return lun_scoped(plan);
        case TmfFunction::clear_task_set:
            plan.other_sessions = true;
            plan.notify_cleared = true;
            return lun_scoped(plan);
        case TmfFunction::logical_unit_reset:
            plan.other_sessions = true;
            plan.reset = scsi::ResetKind::logical_unit;
            return lun_scoped(plan);
        case TmfFunction::target_warm_reset:
            plan.all_luns = true;
            plan.other_sessions = true;
            plan.reset = scsi::ResetKind::target_warm;
            return plan;
        case TmfFunction::target_cold_reset:
            plan.all_luns = true;
            plan.other_sessions = true;
            plan.reset = scsi::ResetKind::target_cold;
            plan.close_sessions = true;
            return plan;
        case TmfFunction::clear_aca:
            plan.response = TmfResponse::function_not_supported;  // we never establish ACA
            return plan;
        case TmfFunction::task_reassign:
            plan.response = TmfResponse::reassignment_not_supported;  // ErrorRecoveryLevel 0
            return plan;
    }
    plan.response = TmfResponse::rejected;
    return plan;
}

}  // namespace bootherd::iscsi
