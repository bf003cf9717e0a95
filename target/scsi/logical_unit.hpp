#pragma once
// One logical unit: its backend and configuration plus the per-LU SCSI state (unit attentions, reservations,
// mode parameters) and the lock that makes COMPARE AND WRITE atomic against other medium accesses.
#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <system_error>

#include "block/block_device.hpp"
#include "target/scsi/mode_pages.hpp"
#include "target/scsi/persistent_reservations.hpp"
#include "target/scsi/target_device.hpp"
#include "target/scsi/unit_attention.hpp"

namespace bootherd::scsi {

// Limits this target reports in the Block Limits VPD page and enforces.
struct BlockLimits {
    static constexpr std::uint32_t kMaxTransferBytes = 8u << 20;
    static constexpr std::uint32_t kMaxUnmapDescriptors = 256;
    static constexpr std::uint32_t kMaxUnmapBlocks = 1u << 20;  // per UNMAP command
    static constexpr std::uint32_t kMaxCompareAndWriteBlocks = 255;
    static constexpr std::uint32_t kMaxWriteSameBytes = 16u << 20;
};

enum class IoKind { read, write };

class LogicalUnit {
  public:
    explicit LogicalUnit(LogicalUnitConfig config);

    std::uint64_t lun() const { return config_.lun; }
    const LogicalUnitConfig& config() const { return config_; }
    block::BlockDevice& backend() const { return *config_.backend; }

    // The backend's geometry; queues CAPACITY DATA HAS CHANGED for every nexus when the size moved since the
    // last call.
    block::Geometry refresh_geometry();

    // Write protection from the configuration, the backend, or the SWP mode bit.
    bool write_protected(const block::Geometry& geometry) const;

    UnitAttentions& unit_attentions() { return unit_attentions_; }
    PersistentReservations& reservations() { return reservations_; }
    ModePages& mode_pages() { return mode_pages_; }
    // Medium accesses hold it shared; COMPARE AND WRITE holds it exclusively.
    std::shared_mutex& io_lock() { return io_lock_; }

    void attach(const Nexus& nexus);
    void detach(std::uint64_t nexus_id);
    // A logical unit or target reset: drops SPC-2 reservations, restores mode defaults, queues `code` for
    // all.
    void reset(Asc code);

  private:
    LogicalUnitConfig config_;
    std::atomic<std::uint64_t> size_bytes_;
    UnitAttentions unit_attentions_;
    PersistentReservations reservations_;
    ModePages mode_pages_;
    std::shared_mutex io_lock_;
};

// Turns a backend failure into sense data: ENOSPC -> DATA PROTECT / SPACE ALLOCATION FAILED WRITE PROTECT,
// EROFS -> DATA PROTECT / WRITE PROTECTED, ENOMEDIUM -> NOT READY, anything else -> MEDIUM ERROR.
// Does nothing when ec is clear.
void check_backend(std::error_code ec, IoKind kind);

}  // namespace bootherd::scsi
