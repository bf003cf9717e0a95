#include "target/scsi/persistent_reservations.hpp"

#include <algorithm>

#include "common/bytes.hpp"

namespace bootherd::scsi {
namespace {

namespace out_action {
constexpr std::uint8_t register_key = 0;
constexpr std::uint8_t reserve = 1;
constexpr std::uint8_t release = 2;
constexpr std::uint8_t clear = 3;
constexpr std::uint8_t preempt = 4;
constexpr std::uint8_t preempt_and_abort = 5;
constexpr std::uint8_t register_and_ignore_existing_key = 6;
}  // namespace out_action

namespace in_action {
constexpr std::uint8_t read_keys = 0;
constexpr std::uint8_t read_reservation = 1;
constexpr std::uint8_t report_capabilities = 2;
constexpr std::uint8_t read_full_status = 3;
}  // namespace in_action

constexpr std::size_t kBasicParameterListLength = 24;

bool valid_type(std::uint8_t type) {
    switch (type) {
        case 1:
        case 3:
        case 5:
        case 6:
        case 7:
        case 8:
            return true;
        default:
            return false;
    }
}

// Validates SCOPE (logical unit only) and TYPE of a PERSISTENT RESERVE OUT that names a reservation.
PrType checked_type(const PersistentReserveOutCdb& cdb) {
    if (cdb.scope != 0) fail_invalid_field_in_cdb(2, 4);
    if (!valid_type(cdb.type)) fail_invalid_field_in_cdb(2, 0);
    return static_cast<PrType>(cdb.type);
}

// iSCSI TransportID (SPC-4 7.6.4.6): initiator port form (format 01b) when the ISID is part of the name.
std::vector<std::uint8_t> transport_id(const std::string& initiator_port) {
    const bool with_isid = initiator_port.find(",i,0x") != std::string::npos;
    std::size_t name_length = initiator_port.size() + 1;  // null terminated
    name_length = std::max<std::size_t>(20, (name_length + 3) & ~std::size_t{3});
    std::vector<std::uint8_t> id(4 + name_length, 0);
    id[0] = with_isid ? 0x45 : 0x05;
    store_be<std::uint16_t>(id.data() + 2, static_cast<std::uint16_t>(name_length));
    std::copy(initiator_port.begin(), initiator_port.end(), id.begin() + 4);
    return id;
}

std::uint8_t scope_type_byte(PrType type) {
    return static_cast<std::uint8_t>(type);
}

}  // namespace

bool PersistentReservations::all_registrants(PrType type) {
    return type == PrType::write_exclusive_all_registrants ||
           type == PrType::exclusive_access_all_registrants;
}

const PersistentReservations::Registrant* PersistentReservations::find(const Nexus& nexus) const {
    for (const auto& r : registrants_) {
        if (r.initiator_port == nexus.initiator_port && r.relative_target_port == nexus.relative_target_port)
            return &r;
    }
    return nullptr;
}

bool PersistentReservations::is_holder(const Nexus& nexus) const {
    if (!reservation_) return false;
    if (all_registrants(reservation_->type)) return find(nexus) != nullptr;
    return reservation_->holder_port == nexus.initiator_port &&
           reservation_->holder_relative_port == nexus.relative_target_port;
}

std::uint64_t PersistentReservations::holder_key() const {
    if (!reservation_ || all_registrants(reservation_->type)) return 0;
    for (const auto& r : registrants_) {
        if (r.initiator_port == reservation_->holder_port &&
            r.relative_target_port == reservation_->holder_relative_port)
            return r.key;
    }
    return 0;
}

void PersistentReservations::remove_registrant(const Registrant& victim, std::vector<Notice>& notices,
                                               std::optional<Asc> notify) {
    const std::string port = victim.initiator_port;
    const std::uint16_t relative = victim.relative_target_port;
    std::erase_if(registrants_, [&](const Registrant& r) {
        return r.initiator_port == port && r.relative_target_port == relative;
    });
    if (notify) notices.push_back({port, *notify});
    if (!reservation_) return;
    if (all_registrants(reservation_->type)) {
        if (registrants_.empty()) reservation_.reset();
    } else if (reservation_->holder_port == port && reservation_->holder_relative_port == relative) {
        const bool registrants_only = reservation_->type == PrType::write_exclusive_registrants_only ||
                                      reservation_->type == PrType::exclusive_access_registrants_only;
        reservation_.reset();
        // SPC-4 5.12.11.2.2: releasing a registrants-only reservation tells the remaining registrants.
        if (registrants_only) {
            for (const auto& r : registrants_)
                notices.push_back({r.initiator_port, asc::reservations_released});
        }
    }
}

bool PersistentReservations::conflicts(const Nexus& nexus, MediumAccess access) const {
    if (access == MediumAccess::none) return false;
    std::lock_guard lock(mutex_);
    if (!reservation_ || is_holder(nexus)) return false;
    const bool registered = find(nexus) != nullptr;
    switch (reservation_->type) {
        case PrType::write_exclusive:
            return access == MediumAccess::write;
        case PrType::exclusive_access:
            return true;
        case PrType::write_exclusive_registrants_only:
        case PrType::write_exclusive_all_registrants:
            return access == MediumAccess::write && !registered;
        case PrType::exclusive_access_registrants_only:
        case PrType::exclusive_access_all_registrants:
            return !registered;
    }
    return true;
}

std::vector<PersistentReservations::Notice> PersistentReservations::update(
    const Nexus& nexus, const PersistentReserveOutCdb& cdb, std::span<const std::uint8_t> parameters) {
    if (cdb.service_action > out_action::register_and_ignore_existing_key) fail_invalid_field_in_cdb(1, 0);
    if (cdb.parameter_list_length != kBasicParameterListLength ||
        parameters.size() < kBasicParameterListLength)
        fail(SenseKey::illegal_request, asc::parameter_list_length_error);

    const std::uint64_t key = load_be<std::uint64_t>(parameters.data());
    const std::uint64_t service_action_key = load_be<std::uint64_t>(parameters.data() + 8);
    const std::uint8_t flags = parameters[20];
    if (flags & 0x08) fail_invalid_field_in_parameter_list(20, 3);  // SPEC_I_PT
    if (flags & 0x04) fail_invalid_field_in_parameter_list(20, 2);  // ALL_TG_PT
    if (flags & 0x01) fail_invalid_field_in_parameter_list(20, 0);  // APTPL

    std::vector<Notice> notices;
    std::lock_guard lock(mutex_);
    switch (cdb.service_action) {
        case out_action::register_key:
            do_register(nexus, key, service_action_key, false, notices);
            break;
        case out_action::register_and_ignore_existing_key:
            do_register(nexus, key, service_action_key, true, notices);
            break;
        case out_action::reserve:
            do_reserve(nexus, key, cdb);
            break;
        case out_action::release:
            do_release(nexus, key, cdb, notices);
            break;
        case out_action::clear:
            do_clear(nexus, key, notices);
            break;
        case out_action::preempt:
        case out_action::preempt_and_abort:
            do_preempt(nexus, key, service_action_key, cdb, notices);
            break;
        default:
            fail_invalid_field_in_cdb(1, 0);
    }
    return notices;
}

void PersistentReservations::do_register(const Nexus& nexus, std::uint64_t key, std::uint64_t new_key,
                                         bool ignore_existing, std::vector<Notice>& notices) {
    auto existing = std::find_if(registrants_.begin(), registrants_.end(), [&](const Registrant& r) {
        return r.initiator_port == nexus.initiator_port &&
               r.relative_target_port == nexus.relative_target_port;
    });
    if (existing == registrants_.end()) {
        if (!ignore_existing && key != 0) fail_reservation_conflict();
        if (new_key != 0) registrants_.push_back({nexus.initiator_port, nexus.relative_target_port, new_key});
    } else {
        if (!ignore_existing && key != existing->key) fail_reservation_conflict();
        if (new_key == 0) {
            remove_registrant(*existing, notices, std::nullopt);
        } else {
            existing->key = new_key;
        }
    }
    ++generation_;
}

void PersistentReservations::do_reserve(const Nexus& nexus, std::uint64_t key,
                                        const PersistentReserveOutCdb& cdb) {
    const Registrant* self = find(nexus);
    if (!self || self->key != key) fail_reservation_conflict();
    const PrType type = checked_type(cdb);
    if (reservation_) {
        if (!is_holder(nexus) || reservation_->type != type) fail_reservation_conflict();
        return;
    }
    reservation_ = Reservation{nexus.initiator_port, nexus.relative_target_port, type};
}

void PersistentReservations::do_release(const Nexus& nexus, std::uint64_t key,
                                        const PersistentReserveOutCdb& cdb, std::vector<Notice>& notices) {
    const Registrant* self = find(nexus);
    if (!self || self->key != key) fail_reservation_conflict();
    if (!reservation_ || !is_holder(nexus)) return;
    if (cdb.scope != 0 || cdb.type != static_cast<std::uint8_t>(reservation_->type))
        fail(SenseKey::illegal_request, asc::invalid_release_of_persistent_reservation);
    const PrType type = reservation_->type;
    reservation_.reset();
    if (type != PrType::write_exclusive && type != PrType::exclusive_access) {
        for (const auto& r : registrants_) {
            if (&r != self) notices.push_back({r.initiator_port, asc::reservations_released});
        }
    }
}

void PersistentReservations::do_clear(const Nexus& nexus, std::uint64_t key, std::vector<Notice>& notices) {
    const Registrant* self = find(nexus);
    if (!self || self->key != key) fail_reservation_conflict();
    for (const auto& r : registrants_) {
        if (&r != self) notices.push_back({r.initiator_port, asc::reservations_preempted});
    }
    registrants_.clear();
    reservation_.reset();
    ++generation_;
}

void PersistentReservations::do_preempt(const Nexus& nexus, std::uint64_t key, std::uint64_t victim_key,
                                        const PersistentReserveOutCdb& cdb, std::vector<Notice>& notices) {
    const Registrant* self = find(nexus);
    if (!self || self->key != key) fail_reservation_conflict();
    const std::string self_port = self->initiator_port;

    // Removes every other registration matching `matches`; returns how many.
    auto remove_others = [&](auto matches) {
        std::vector<Registrant> victims;
        for (const auto& r : registrants_) {
            const bool is_self = r.initiator_port == nexus.initiator_port &&
                                 r.relative_target_port == nexus.relative_target_port;
            if (!is_self && matches(r)) victims.push_back(r);
        }
        for (const auto& v : victims)
            remove_registrant(v, notices, asc::registrations_preempted);
        return victims.size();
    };
    auto take_reservation = [&](PrType type) {
        reservation_ = Reservation{nexus.initiator_port, nexus.relative_target_port, type};
    };

    if (reservation_ && all_registrants(reservation_->type) && victim_key == 0) {
        const PrType type = checked_type(cdb);
        remove_others([](const Registrant&) { return true; });
        take_reservation(type);
    } else if (reservation_ && !all_registrants(reservation_->type) && victim_key == holder_key()) {
        const PrType type = checked_type(cdb);
        remove_others([&](const Registrant& r) { return r.key == victim_key; });
        take_reservation(type);
    } else {
        if (victim_key == 0) fail_invalid_field_in_parameter_list(8);
        if (remove_others([&](const Registrant& r) { return r.key == victim_key; }) == 0)
            fail_reservation_conflict();
    }
    ++generation_;
}

std::vector<std::uint8_t> PersistentReservations::read(std::uint8_t service_action) const {
    std::lock_guard lock(mutex_);
    switch (service_action) {
        case in_action::read_keys:
            return read_keys();
        case in_action::read_reservation:
            return read_reservation();
        case in_action::report_capabilities: {
            std::vector<std::uint8_t> d(8, 0);
            d[1] = 8;
            d[3] = 0x80;                              // TMV: the type mask is valid
            d[4] = 0x80 | 0x40 | 0x20 | 0x08 | 0x02;  // WR_EX_AR, EX_AC_RO, WR_EX_RO, EX_AC, WR_EX
            d[5] = 0x01;                              // EX_AC_AR
            return d;
        }
        case in_action::read_full_status:
            return read_full_status();
        default:
            fail_invalid_field_in_cdb(1, 0);
    }
}

std::vector<std::uint8_t> PersistentReservations::read_keys() const {
    std::vector<std::uint8_t> d(8 + 8 * registrants_.size(), 0);
    store_be<std::uint32_t>(d.data(), generation_);
    store_be<std::uint32_t>(d.data() + 4, static_cast<std::uint32_t>(8 * registrants_.size()));
    for (std::size_t i = 0; i < registrants_.size(); ++i)
        store_be<std::uint64_t>(d.data() + 8 + 8 * i, registrants_[i].key);
    return d;
}

std::vector<std::uint8_t> PersistentReservations::read_reservation() const {
    std::vector<std::uint8_t> d(reservation_ ? 24 : 8, 0);
    store_be<std::uint32_t>(d.data(), generation_);
    if (reservation_) {
        store_be<std::uint32_t>(d.data() + 4, 16);
        store_be<std::uint64_t>(d.data() + 8, holder_key());
        d[21] = scope_type_byte(reservation_->type);
    }
    return d;
}

std::vector<std::uint8_t> PersistentReservations::read_full_status() const {
    std::vector<std::uint8_t> d(8, 0);
    store_be<std::uint32_t>(d.data(), generation_);
    for (const auto& r : registrants_) {
        const auto id = transport_id(r.initiator_port);
        std::vector<std::uint8_t> desc(24, 0);
        store_be<std::uint64_t>(desc.data(), r.key);
        const bool holder = reservation_ && (all_registrants(reservation_->type) ||
                                             (reservation_->holder_port == r.initiator_port &&
                                              reservation_->holder_relative_port == r.relative_target_port));
        if (holder) {
            desc[12] = 0x01;  // R_HOLDER
            desc[13] = scope_type_byte(reservation_->type);
        }
        store_be<std::uint16_t>(desc.data() + 18, r.relative_target_port);
        store_be<std::uint32_t>(desc.data() + 20, static_cast<std::uint32_t>(id.size()));
        d.insert(d.end(), desc.begin(), desc.end());
        d.insert(d.end(), id.begin(), id.end());
    }
    store_be<std::uint32_t>(d.data() + 4, static_cast<std::uint32_t>(d.size() - 8));
    return d;
}

void PersistentReservations::reserve6(const Nexus& nexus) {
    std::lock_guard lock(mutex_);
    if (reservation_) fail_reservation_conflict();
    if (reserve6_holder_ && *reserve6_holder_ != nexus.id) fail_reservation_conflict();
    reserve6_holder_ = nexus.id;
}

void PersistentReservations::release6(const Nexus& nexus) {
    std::lock_guard lock(mutex_);
    if (reserve6_holder_ == nexus.id) reserve6_holder_.reset();
}

bool PersistentReservations::reserved6_by_other(std::uint64_t nexus_id) const {
    std::lock_guard lock(mutex_);
    return reserve6_holder_ && *reserve6_holder_ != nexus_id;
}

void PersistentReservations::nexus_lost(std::uint64_t nexus_id) {
    std::lock_guard lock(mutex_);
    if (reserve6_holder_ == nexus_id) reserve6_holder_.reset();
}

void PersistentReservations::release6_all() {
    std::lock_guard lock(mutex_);
    reserve6_holder_.reset();
}

}  // namespace bootherd::scsi
