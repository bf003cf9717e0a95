#pragma once
// The storage backend interface the SCSI layer serves. Modelled on LIO's backend contract: besides geometry,
// a backend needs only read/write, flush, write-same and unmap. Implementations: the flat file here, and the
// image store's VHDX/VHD chains.
//
// Calls are synchronous and may block; the target runs them on its disk threads, never on network threads.
// Every implementation must be safe for concurrent calls on distinct or overlapping ranges (the SCSI layer
// serialises what needs atomicity, such as COMPARE AND WRITE). Offsets and lengths are in bytes and are
// always multiples of logical_block_size; the SCSI layer checks ranges against the capacity before calling.
//
// Errors. A write (or write-same, or the zeros of an unmap) that needs space the storage under the backend
// does not have fails with std::errc::no_space_on_device, whether the file system is full (ENOSPC) or a quota
// is (EDQUOT): the SCSI layer answers it with SPACE ALLOCATION FAILED, and the failed write changes nothing
// else (writes acknowledged before and after it are made durable by the next successful flush). Other I/O
// failures come as their system error or std::errc::io_error.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>

namespace bootherd::block {

struct Geometry {
    std::uint64_t size_bytes = 0;             // capacity; a multiple of logical_block_size
    std::uint32_t logical_block_size = 512;   // 512 or 4096
    std::uint32_t physical_block_size = 512;  // reported in READ CAPACITY(16) as an exponent
    bool thin = false;                        // supports unmap (thin provisioning), reported in VPD B2
    bool read_only = false;
    bool write_cache = false;  // writes may sit in a volatile cache until flush (WCE)
    // Largest extent the backend prefers to see unmapped at once, in logical blocks (0 = no preference).
    std::uint32_t unmap_granularity_blocks = 0;
};

// Allocation state of a range, for GET LBA STATUS.
enum class Provisioning : std::uint8_t { mapped = 0, deallocated = 1, anchored = 2 };

class BlockDevice {
  public:
    virtual ~BlockDevice() = default;

    virtual Geometry geometry() const = 0;

    // Reads out.size() bytes at offset. Unallocated ranges read as zeros.
    virtual std::error_code read(std::uint64_t offset, std::span<std::byte> out) = 0;

    // Reads only if that cannot block (the data is already in memory). Returns false when it would have to
    // wait; `out` is then unspecified and the caller retries with read() on a disk thread. Lets the target
    // answer cached reads on the network thread without a hand-off to the disk pool.
    virtual bool try_read_nowait(std::uint64_t offset, std::span<std::byte> out) {
        (void)offset;
        (void)out;
        return false;
    }

    // Writes data at offset. With fua the data is durable when this returns.
    virtual std::error_code write(std::uint64_t offset, std::span<const std::byte> data, bool fua) = 0;

    // Makes every completed write durable.
    virtual std::error_code flush() = 0;

    // Deallocates the range; it reads as zeros afterwards. Backends that are not thin write zeros.
    virtual std::error_code unmap(std::uint64_t offset, std::uint64_t length) = 0;

    // Writes `pattern` (one logical block) repeatedly over [offset, offset + length). A zero pattern with
    // `may_unmap` lets a thin backend deallocate instead of writing.
    virtual std::error_code write_same(std::uint64_t offset, std::uint64_t length,
                                       std::span<const std::byte> pattern, bool may_unmap) = 0;

    // Provisioning state of the extent starting at offset and its length in bytes (at most max_length).
    // Backends that do not track allocation report everything mapped.
    struct Extent {
        Provisioning state = Provisioning::mapped;
        std::uint64_t length = 0;
    };
    virtual std::error_code extent_at(std::uint64_t offset, std::uint64_t max_length, Extent& out) {
        out = {Provisioning::mapped, max_length};
        (void)offset;
        return {};
    }

    // A short human description for logs ("flat file /srv/disk.img").
    virtual std::string describe() const = 0;
};

// True for the system errors that mean "out of space": ENOSPC, and EDQUOT (a quota is full).
inline bool is_out_of_space(std::error_code ec) {
    // std::errc has no EDQUOT, so no error condition matches it across categories: compare the value.
    const bool errno_value =
        ec.category() == std::system_category() || ec.category() == std::generic_category();
    return ec == std::errc::no_space_on_device || (errno_value && ec.value() == EDQUOT);
}

// Shared helper for backends that have no faster way: repeats pattern over the range with write().
std::error_code write_same_by_writes(BlockDevice& dev, std::uint64_t offset, std::uint64_t length,
                                     std::span<const std::byte> pattern);

}  // namespace bootherd::block
