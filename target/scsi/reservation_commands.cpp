// PERSISTENT RESERVE IN/OUT and RESERVE(6)/RELEASE(6): CDB handling around PersistentReservations.
#include "target/scsi/cdb.hpp"
#include "target/scsi/handlers.hpp"

namespace bootherd::scsi::handlers {

void persistent_reserve_in(Command& c) {
    const auto cdb = decode_persistent_reserve_in(c.cdb());
    const auto data = c.lu().reservations().read(cdb.service_action);
    respond(c.task, data, cdb.allocation_length);
}

void persistent_reserve_out(Command& c) {
    const auto cdb = decode_persistent_reserve_out(c.cdb());
    const auto received = data_out_bytes(c.task);
    const auto parameters = received.first(std::min<std::size_t>(received.size(), cdb.parameter_list_length));
    const auto notices = c.lu().reservations().update(c.nexus, cdb, parameters);
    for (const auto& n : notices)
        c.lu().unit_attentions().establish_for_port(n.initiator_port, n.code);
}

void reserve6(Command& c) {
    const auto cdb = decode_reserve6(c.cdb());
    if (cdb.extent) fail_invalid_field_in_cdb(1, 0);
    if (cdb.third_party) fail_invalid_field_in_cdb(1, 4);
    c.lu().reservations().reserve6(c.nexus);
}

void release6(Command& c) {
    const auto cdb = decode_reserve6(c.cdb());
    if (cdb.extent) fail_invalid_field_in_cdb(1, 0);
    if (cdb.third_party) fail_invalid_field_in_cdb(1, 4);
    c.lu().reservations().release6(c.nexus);
}

}  // namespace bootherd::scsi::handlers
