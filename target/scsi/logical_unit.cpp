#include "target/scsi/logical_unit.hpp"

#include <cerrno>
#include <stdexcept>

namespace bootherd::scsi {

LogicalUnit::LogicalUnit(LogicalUnitConfig config) : config_(std::move(config)) {
    if (!config_.backend) throw std::invalid_argument("logical unit without a backend");
    const auto g = config_.backend->geometry();
    if (g.logical_block_size == 0 || g.size_bytes % g.logical_block_size != 0)
        throw std::invalid_argument("backend geometry is not a whole number of logical blocks");
    size_bytes_ = g.size_bytes;
}

block::Geometry LogicalUnit::refresh_geometry() {
    block::Geometry g = config_.backend->geometry();
    if (size_bytes_.exchange(g.size_bytes) != g.size_bytes)
        unit_attentions_.establish_all(asc::capacity_data_changed);
    return g;
}

bool LogicalUnit::write_protected(const block::Geometry& geometry) const {
    return config_.read_only || geometry.read_only || mode_pages_.software_write_protect();
}

void LogicalUnit::attach(const Nexus& nexus) {
    unit_attentions_.attach(nexus.id, nexus.initiator_port);
}

void LogicalUnit::detach(std::uint64_t nexus_id) {
    unit_attentions_.detach(nexus_id);
    reservations_.nexus_lost(nexus_id);
}

void LogicalUnit::reset(Asc code) {
    reservations_.release6_all();
    mode_pages_.reset();
    unit_attentions_.establish_all(code);
}

void check_backend(std::error_code ec, IoKind kind) {
    if (!ec) return;
    // SBC-3 4.7.3.6: a thin provisioned unit that cannot allocate for a write.
    if (block::is_out_of_space(ec)) fail(SenseKey::data_protect, asc::space_allocation_failed_write_protect);
    if (ec == std::errc::read_only_file_system) fail(SenseKey::data_protect, asc::write_protected);
    if (ec.default_error_condition() == std::error_condition(ENOMEDIUM, std::generic_category()))
        fail(SenseKey::not_ready, asc::medium_not_present);
    fail(SenseKey::medium_error, kind == IoKind::read ? asc::unrecovered_read_error : asc::write_error);
}

}  // namespace bootherd::scsi
