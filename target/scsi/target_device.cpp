// The dispatcher: finds the command in the opcode table, applies the checks every command shares (logical
// unit exists, unit attentions, ACA, reservations, write protection) and runs the handler.
#include <algorithm>
#include <new>
#include <stdexcept>

#include "common/log.hpp"
#include "target/scsi/cdb.hpp"
#include "target/scsi/command.hpp"
#include "target/scsi/logical_unit.hpp"
#include "target/scsi/opcode_table.hpp"
#include "target/scsi/target_device.hpp"

namespace bootherd::scsi {
namespace {

class ScsiTargetDevice final : public TargetDevice {
  public:
    explicit ScsiTargetDevice(std::vector<LogicalUnitConfig> configs) {
        std::sort(configs.begin(), configs.end(), [](const auto& a, const auto& b) { return a.lun < b.lun; });
        for (auto& config : configs) {
            if (!luns_.empty() && luns_.back() == config.lun)
                throw std::invalid_argument("duplicate LUN " + std::to_string(config.lun));
            luns_.push_back(config.lun);
            units_.push_back(std::make_unique<LogicalUnit>(std::move(config)));
        }
    }

    void attach(const Nexus& nexus) override {
        for (auto& unit : units_)
            unit->attach(nexus);
    }

    void detach(std::uint64_t nexus_id) override {
        for (auto& unit : units_)
            unit->detach(nexus_id);
    }

    bool runs_inline(const Task& task) const override {
        if (find_unit(task.lun) == nullptr) return true;
        try {
            const CommandDescriptor* d = find_command(task.cdb());
            return d == nullptr || !d->has(kNeedsBackend);
        } catch (const CommandError&) {
            return true;  // rejected before it reaches the backend
        }
    }

    void execute(Task& task) override { run(task, false); }

    bool try_execute_nowait(Task& task) override {
        if (find_unit(task.lun) == nullptr) return false;
        try {
            const CommandDescriptor* d = find_command(task.cdb());
            if (d == nullptr || !d->has(kNowaitCapable)) return false;
        } catch (const CommandError&) {
            return false;
        }
        return run(task, true);
    }

    void fail_delivery(Task& task) override {
        LogicalUnit* unit = find_unit(task.lun);
        task.data_in_length = 0;
        SenseData sense;
        sense.key = SenseKey::aborted_command;
        sense.asc = asc::protocol_service_crc_error;
        set_check_condition(task, sense,
                            unit != nullptr ? unit->mode_pages().sense_format() : SenseFormat::fixed);
    }

    void reset(ResetKind kind, std::uint64_t lun, const Nexus& by) override {
        (void)by;  // SAM-5: every I_T nexus, the requester's included, sees the reset
        switch (kind) {
            case ResetKind::logical_unit:
                if (LogicalUnit* unit = find_unit(lun)) unit->reset(asc::bus_device_reset_function);
                break;
            case ResetKind::target_warm:
                for (auto& unit : units_)
                    unit->reset(asc::bus_reset);
                break;
            case ResetKind::target_cold:
                for (auto& unit : units_)
                    unit->reset(asc::power_on_reset);
                break;
        }
    }

    void tasks_cleared(std::uint64_t lun, const Nexus& by, std::uint64_t victim_nexus_id) override {
        if (victim_nexus_id == by.id) return;
        if (LogicalUnit* unit = find_unit(lun))
            unit->unit_attentions().establish(victim_nexus_id, asc::commands_cleared_by_another_initiator);
    }

    bool has_lun(std::uint64_t lun) const override { return find_unit(lun) != nullptr; }

    bool flush_all() override {
        bool flushed = true;
        for (auto& unit : units_) {
            if (auto ec = unit->backend().flush()) {
                log::error("flush of LUN ", unit->lun(), " (", unit->backend().describe(),
                           ") failed: ", ec.message());
                flushed = false;
            }
        }
        return flushed;
    }

  private:
    LogicalUnit* find_unit(std::uint64_t lun) const {
        auto it = std::lower_bound(luns_.begin(), luns_.end(), lun);
        if (it == luns_.end() || *it != lun) return nullptr;
        return units_[static_cast<std::size_t>(it - luns_.begin())].get();
    }

    // Runs the command; false only when `nowait` and it would have blocked.
    bool run(Task& task, bool nowait);
    void dispatch(Task& task, const Nexus& nexus, LogicalUnit* unit, bool nowait);

    std::vector<std::uint64_t> luns_;  // ascending, parallel to units_
    std::vector<std::unique_ptr<LogicalUnit>> units_;
};

void ScsiTargetDevice::dispatch(Task& task, const Nexus& nexus, LogicalUnit* unit, bool nowait) {
    const auto cdb = task.cdb();
    const CommandDescriptor* d = find_command(cdb);
    if (unit == nullptr && (d == nullptr || !d->has(kAnyLun)))
        fail(SenseKey::illegal_request, asc::logical_unit_not_supported);
    if (d == nullptr) fail(SenseKey::illegal_request, asc::invalid_command_operation_code);
    if (cdb.size() < d->cdb_size) fail_invalid_field_in_cdb(0);

    Command command{task, nexus, unit, {}, luns_, nowait};
    if (unit != nullptr) {
        command.geometry = unit->refresh_geometry();
        task.cdb_data_out_length = data_out_length_of(cdb, command.geometry.logical_block_size);
        if (!d->has(kIgnoresUnitAttention)) {
            if (auto ua = unit->unit_attentions().take(nexus.id))
                throw CommandError(SenseData{SenseKey::unit_attention, *ua, std::nullopt, std::nullopt});
        }
    }
    if (control_byte_has_naca(cdb)) fail_invalid_field_in_cdb(static_cast<std::uint16_t>(d->cdb_size - 1), 2);
    if (unit != nullptr) {
        auto& reservations = unit->reservations();
        if (!d->has(kAllowedUnderReserve6) && reservations.reserved6_by_other(nexus.id))
            fail_reservation_conflict();
        if (reservations.conflicts(nexus, d->access)) fail_reservation_conflict();
        if (d->has(kWritesMedium) && unit->write_protected(command.geometry)) {
            const bool by_mode_page = !unit->config().read_only && !command.geometry.read_only;
            fail(SenseKey::data_protect, by_mode_page ? asc::software_write_protected : asc::write_protected);
        }
    }
    d->handler(command);
}

bool ScsiTargetDevice::run(Task& task, bool nowait) {
    static const Nexus kNoNexus{};
    const Nexus& nexus = task.nexus != nullptr ? *task.nexus : kNoNexus;
    LogicalUnit* unit = find_unit(task.lun);
    task.status = Status::good;
    task.sense_length = 0;
    task.data_in_length = 0;
    auto sense_format = [&] {
        return unit != nullptr ? unit->mode_pages().sense_format() : SenseFormat::fixed;
    };
    try {
        dispatch(task, nexus, unit, nowait);
    } catch (const WouldBlock&) {
        return false;
    } catch (const CommandError& e) {
        if (e.status() == Status::check_condition) {
            set_check_condition(task, e.sense(), sense_format());
        } else {
            task.status = e.status();
            task.data_in_length = 0;
        }
    } catch (const std::bad_alloc&) {
        set_check_condition(task, {SenseKey::aborted_command, asc::internal_target_failure, {}, {}},
                            sense_format());
    } catch (const std::exception& e) {
        log::error("SCSI command 0x", std::hex, unsigned{task.cdb_length ? task.cdb_bytes[0] : 0u},
                   " on LUN ", std::dec, task.lun, " failed: ", e.what());
        set_check_condition(task, {SenseKey::hardware_error, asc::internal_target_failure, {}, {}},
                            sense_format());
    }
    return true;
}

}  // namespace

std::unique_ptr<TargetDevice> make_target_device(std::vector<LogicalUnitConfig> luns) {
    return std::make_unique<ScsiTargetDevice>(std::move(luns));
}

}  // namespace bootherd::scsi
