#include <doctest/doctest.h>

#include "target/iscsi/task_management.hpp"

using namespace bootherd;
using namespace bootherd::iscsi;

namespace {
TaskManagementRequest request(TmfFunction f, std::uint32_t cmd_sn = 10, std::uint32_t ref_cmd_sn = 5) {
    TaskManagementRequest r;
    r.function = static_cast<std::uint8_t>(f);
    r.lun = encode_lun(2);
    r.cmd_sn = cmd_sn;
    r.ref_cmd_sn = ref_cmd_sn;
    return r;
}
}  // namespace

TEST_CASE("ABORT TASK: found, completed already, or never received") {
    CHECK(plan_task_management(request(TmfFunction::abort_task), true, true, 10).response ==
          TmfResponse::complete);
    CHECK(plan_task_management(request(TmfFunction::abort_task), true, true, 10).single_task);
    // Completed (RefCmdSN below ExpCmdSN): the task no longer exists.
    CHECK(plan_task_management(request(TmfFunction::abort_task), true, false, 10).response ==
          TmfResponse::task_does_not_exist);
    // Not received yet but inside the window and before this request: considered aborted.
    CHECK(plan_task_management(request(TmfFunction::abort_task, 10, 8), true, false, 7).response ==
          TmfResponse::complete);
}

TEST_CASE("task set and reset functions: scope and the device reset that follows") {
    const TmfPlan abort_set = plan_task_management(request(TmfFunction::abort_task_set), true, false, 0);
    CHECK(abort_set.response == TmfResponse::complete);
    CHECK(abort_set.lun == 2);
    CHECK_FALSE(abort_set.other_sessions);
    CHECK_FALSE(abort_set.reset);

    const TmfPlan clear = plan_task_management(request(TmfFunction::clear_task_set), true, false, 0);
    CHECK(clear.other_sessions);
    CHECK(clear.notify_cleared);

    const TmfPlan lun_reset = plan_task_management(request(TmfFunction::logical_unit_reset), true, false, 0);
    CHECK(lun_reset.other_sessions);
    CHECK(lun_reset.reset == scsi::ResetKind::logical_unit);
    CHECK(plan_task_management(request(TmfFunction::logical_unit_reset), false, false, 0).response ==
          TmfResponse::lun_does_not_exist);

    const TmfPlan warm = plan_task_management(request(TmfFunction::target_warm_reset), false, false, 0);
    CHECK(warm.response == TmfResponse::complete);  // no LUN needed
    CHECK(warm.all_luns);
    CHECK(warm.reset == scsi::ResetKind::target_warm);
    CHECK_FALSE(warm.close_sessions);
    const TmfPlan cold = plan_task_management(request(TmfFunction::target_cold_reset), true, false, 0);
    CHECK(cold.reset == scsi::ResetKind::target_cold);
    CHECK(cold.close_sessions);
}

TEST_CASE("unsupported functions") {
    CHECK(plan_task_management(request(TmfFunction::clear_aca), true, false, 0).response ==
          TmfResponse::function_not_supported);
    CHECK(plan_task_management(request(TmfFunction::task_reassign), true, false, 0).response ==
          TmfResponse::reassignment_not_supported);
    TaskManagementRequest unknown = request(TmfFunction::abort_task);
    unknown.function = 0x33;
    CHECK(plan_task_management(unknown, true, false, 0).response == TmfResponse::rejected);
}
