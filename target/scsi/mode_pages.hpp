#pragma once
// Mode parameters of one logical unit (SPC-4 7.5, SBC-3 6.4): the caching (08h), control (0Ah) and
// informational exceptions control (1Ch) pages, MODE SENSE data building and MODE SELECT validation.
// Thread-safe.
//
// Changeable: D_SENSE and SWP in the control page. WCE reflects the backend and is not changeable. Saved
// values are not supported (PC = 3 -> SAVING PARAMETERS NOT SUPPORTED; SP = 1 -> INVALID FIELD IN CDB).
#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "block/block_device.hpp"
#include "target/scsi/cdb.hpp"
#include "target/scsi/sense.hpp"

namespace bootherd::scsi {

class ModePages {
  public:
    // Builds MODE SENSE(6)/(10) parameter data; `write_protected` sets WP in the header.
    std::vector<std::uint8_t> sense(const ModeSenseCdb& cdb, const block::Geometry& geometry,
                                    bool write_protected) const;
    // Applies a MODE SELECT(6)/(10) parameter list (exactly the bytes received). Throws CommandError.
    void select(const ModeSelectCdb& cdb, std::span<const std::uint8_t> parameters,
                const block::Geometry& geometry);

    SenseFormat sense_format() const;
    bool software_write_protect() const;
    // A logical unit reset returns the current values to the defaults (there are no saved values).
    void reset();

  private:
    struct Values {
        bool descriptor_sense = false;
        bool software_write_protect = false;
    };
    std::vector<std::uint8_t> page(std::uint8_t code, PageControl pc, const block::Geometry& geometry,
                                   const Values& values) const;

    mutable std::mutex mutex_;
    Values current_;
};

}  // namespace bootherd::scsi
