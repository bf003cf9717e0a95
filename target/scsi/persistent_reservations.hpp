#pragma once
// Reservations of one logical unit: SPC-4 persistent reservations (PERSISTENT RESERVE IN/OUT) and the older
// SPC-2 RESERVE(6)/RELEASE(6) reservation. Thread-safe.
//
// Registrations belong to an I_T nexus identified by its initiator port (iSCSI name + ISID) and relative
// target port, so they survive a session's reconnection as SPC-4 requires. They are kept in memory only:
// APTPL is not supported (PTPL_C = 0) and a parameter list with APTPL set is rejected with INVALID FIELD IN
// PARAMETER LIST, as are SPEC_I_PT and ALL_TG_PT (SIP_C = ATP_C = 0). REGISTER AND MOVE is not supported
// (INVALID FIELD IN CDB). PREEMPT AND ABORT changes the reservation like PREEMPT; aborting the preempted
// tasks is the transport's job.
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "target/scsi/cdb.hpp"
#include "target/scsi/sense.hpp"
#include "target/scsi/task.hpp"

namespace bootherd::scsi {

enum class PrType : std::uint8_t {
    write_exclusive = 1,
    exclusive_access = 3,
    write_exclusive_registrants_only = 5,
    exclusive_access_registrants_only = 6,
    write_exclusive_all_registrants = 7,
    exclusive_access_all_registrants = 8,
};

// What a command does to the medium, for the conflict rules (SPC-4 5.12.2, SBC-3 4.17).
enum class MediumAccess : std::uint8_t { none, read, write };

class PersistentReservations {
  public:
    // A unit attention to deliver to an initiator port as the result of a PERSISTENT RESERVE OUT.
    struct Notice {
        std::string initiator_port;
        Asc code;
    };

    // PERSISTENT RESERVE IN: builds the full parameter data (the caller truncates to the allocation length).
    std::vector<std::uint8_t> read(std::uint8_t service_action) const;

    // PERSISTENT RESERVE OUT with its parameter list (exactly the bytes the initiator sent). Throws
    // CommandError.
    std::vector<Notice> update(const Nexus& nexus, const PersistentReserveOutCdb& cdb,
                               std::span<const std::uint8_t> parameters);

    // True if a command with this access from the nexus conflicts with the persistent reservation.
    bool conflicts(const Nexus& nexus, MediumAccess access) const;

    // SPC-2 RESERVE(6) / RELEASE(6). reserve6 throws a reservation conflict when another nexus or a
    // persistent reservation holds the logical unit.
    void reserve6(const Nexus& nexus);
    void release6(const Nexus& nexus);
    bool reserved6_by_other(std::uint64_t nexus_id) const;
    // The SPC-2 reservation ends with its nexus and with any reset.
    void nexus_lost(std::uint64_t nexus_id);
    void release6_all();

  private:
    struct Registrant {
        std::string initiator_port;
        std::uint16_t relative_target_port = 0;
        std::uint64_t key = 0;
    };
    struct Reservation {
        std::string holder_port;
        std::uint16_t holder_relative_port = 0;
        PrType type = PrType::write_exclusive;
    };

    static bool all_registrants(PrType type);
    const Registrant* find(const Nexus& nexus) const;
    bool is_holder(const Nexus& nexus) const;
    std::uint64_t holder_key() const;
    void remove_registrant(const Registrant& r, std::vector<Notice>& notices, std::optional<Asc> notify);

    void do_register(const Nexus& nexus, std::uint64_t key, std::uint64_t new_key, bool ignore_existing,
                     std::vector<Notice>& notices);
    void do_reserve(const Nexus& nexus, std::uint64_t key, const PersistentReserveOutCdb& cdb);
    void do_release(const Nexus& nexus, std::uint64_t key, const PersistentReserveOutCdb& cdb,
                    std::vector<Notice>& notices);
    void do_clear(const Nexus& nexus, std::uint64_t key, std::vector<Notice>& notices);
    void do_preempt(const Nexus& nexus, std::uint64_t key, std::uint64_t victim_key,
                    const PersistentReserveOutCdb& cdb, std::vector<Notice>& notices);

    std::vector<std::uint8_t> read_keys() const;
    std::vector<std::uint8_t> read_reservation() const;
    std::vector<std::uint8_t> read_full_status() const;

    mutable std::mutex mutex_;
    std::uint32_t generation_ = 0;
    std::vector<Registrant> registrants_;
    std::optional<Reservation> reservation_;
    std::optional<std::uint64_t> reserve6_holder_;
};

}  // namespace bootherd::scsi
