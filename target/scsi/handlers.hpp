#pragma once
// Command handlers, one per command (or family sharing a CDB layout). Each throws CommandError to terminate
// the command; on return the command completed with GOOD status. The opcode table maps CDBs to them.
#include "target/scsi/command.hpp"

namespace bootherd::scsi::handlers {

// control.cpp
void test_unit_ready(Command& c);
void request_sense(Command& c);
void report_luns(Command& c);
void start_stop_unit(Command& c);
void prevent_allow_medium_removal(Command& c);
void mode_sense(Command& c);
void mode_select(Command& c);

// inquiry.cpp
void inquiry(Command& c);

// capacity.cpp
void read_capacity10(Command& c);
void read_capacity16(Command& c);
void get_lba_status(Command& c);

// read_write.cpp
void read(Command& c);
void write(Command& c);
void write_and_verify(Command& c);
void verify(Command& c);

// cache.cpp
void synchronize_cache(Command& c);
void prefetch(Command& c);

// unmap_write_same.cpp
void unmap(Command& c);
void write_same(Command& c);

// compare_and_write.cpp
void compare_and_write(Command& c);

// or_write.cpp
void or_write(Command& c);

// reservation_commands.cpp
void persistent_reserve_in(Command& c);
void persistent_reserve_out(Command& c);
void reserve6(Command& c);
void release6(Command& c);

// report_opcodes.cpp
void report_supported_operation_codes(Command& c);

}  // namespace bootherd::scsi::handlers
