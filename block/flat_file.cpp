#include "block/flat_file.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "common/page_aligned.hpp"

namespace bootherd::block {
namespace {

std::error_code last_error() {
    return {errno, std::system_category()};
}

// A write's error, with a full quota reported like a full file system (the BlockDevice contract).
std::error_code write_error() {
    const std::error_code ec = last_error();
    return is_out_of_space(ec) ? std::make_error_code(std::errc::no_space_on_device) : ec;
}

bool all_zero(std::span<const std::byte> s) {
    return std::all_of(s.begin(), s.end(), [](std::byte b) { return b == std::byte{0}; });
}

std::error_code pwrite_all(int fd, std::uint64_t offset, std::span<const std::byte> data, int flags) {
    while (!data.empty()) {
        iovec iov{const_cast<std::byte*>(data.data()), data.size()};
        ssize_t n = ::pwritev2(fd, &iov, 1, static_cast<off_t>(offset), flags);
        if (n < 0) {
            if (errno == EINTR) continue;
            return write_error();
        }
        data = data.subspan(static_cast<std::size_t>(n));
        offset += static_cast<std::uint64_t>(n);
    }
    return {};
}

}  // namespace

// Opens `path` a second time with O_DIRECT and learns the alignment it needs: statx(STATX_DIOALIGN) for
// files, the logical sector size for block devices (kernels before 6.11 report no DIOALIGN for them).
FlatFile::Direct FlatFile::open_direct(const std::filesystem::path& path, bool is_block,
                                       std::uint32_t block_size) {
    const auto refuse = [&](std::error_code ec, const std::string& why) {
        return std::system_error(ec, "cannot write " + path.string() + " with O_DIRECT: " + why);
    };
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_DIRECT);
    if (fd < 0) throw refuse(last_error(), "the file system refuses it");
    std::uint32_t offset_alignment = 0, memory_alignment = 0;
    struct statx stx {};
    if (::statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 && (stx.stx_mask & STATX_DIOALIGN) != 0) {
        offset_alignment = stx.stx_dio_offset_align;
        memory_alignment = stx.stx_dio_mem_align;
    } else if (int sector = 0; is_block && ::ioctl(fd, BLKSSZGET, &sector) == 0 && sector > 0) {
        offset_alignment = memory_alignment = static_cast<std::uint32_t>(sector);
    }
    std::string problem;
    if (offset_alignment == 0 || memory_alignment == 0 ||
        memory_alignment > static_cast<std::size_t>(PageAlignedAllocator<std::byte>::kAlignment))
        problem = "the file system does not support it";
    else if (block_size % offset_alignment != 0)
        problem = "it needs offsets aligned to " + std::to_string(offset_alignment) +
                  " bytes; use a block size that is a multiple of that";
    if (!problem.empty()) {
        ::close(fd);
        throw refuse(std::make_error_code(std::errc::invalid_argument), problem);
    }
    return {fd, memory_alignment};
}

std::shared_ptr<FlatFile> FlatFile::open(const std::filesystem::path& path, bool read_only,
                                         std::uint32_t logical_block_size, WritePath write_path) {
    int fd = ::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) throw std::system_error(last_error(), "cannot open " + path.string());
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        auto ec = last_error();
        ::close(fd);
        throw std::system_error(ec, "cannot stat " + path.string());
    }
    bool is_block = S_ISBLK(st.st_mode);
    std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
    if (is_block && ::ioctl(fd, BLKGETSIZE64, &size) != 0) {
        auto ec = last_error();
        ::close(fd);
        throw std::system_error(ec, "cannot read the size of " + path.string());
    }
    if (!is_block && !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                                path.string() + " is neither a regular file nor a block device");
    }
    Geometry g;
    g.logical_block_size = logical_block_size;
    // A file has no physical sector of its own: report one logical block per physical block (initiators align
    // to it, and libiscsi's GET LBA STATUS tests assume it). Hole punching works on file-system pages, which
    // the unmap granularity in VPD B0 tells the initiator instead.
    g.physical_block_size = logical_block_size;
    g.unmap_granularity_blocks = is_block ? 0 : std::max<std::uint32_t>(1, 4096 / logical_block_size);
    g.size_bytes = size - size % logical_block_size;  // a trailing partial block is not addressable
    g.thin = !is_block;
    g.read_only = read_only;
    g.write_cache = true;  // the page cache (or the device's) holds writes until flush
    if (g.size_bytes == 0) {
        ::close(fd);
        throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                                path.string() + " is smaller than one block");
    }
    Direct direct;
    if (write_path == WritePath::direct && !read_only) {
        try {
            direct = open_direct(path, is_block, logical_block_size);
        } catch (...) {
            ::close(fd);
            throw;
        }
    }
    return std::shared_ptr<FlatFile>(new FlatFile(fd, path, g, is_block, direct));
}

FlatFile::FlatFile(int fd, std::filesystem::path path, Geometry geometry, bool is_block_device, Direct direct)
    : fd_(fd),
      direct_(direct),
      path_(std::move(path)),
      geometry_(geometry),
      is_block_device_(is_block_device) {}

FlatFile::~FlatFile() {
    if (direct_.fd >= 0) ::close(direct_.fd);
    ::close(fd_);
}

std::error_code FlatFile::read(std::uint64_t offset, std::span<std::byte> out) {
    while (!out.empty()) {
        ssize_t n = ::pread(fd_, out.data(), out.size(), static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            return last_error();
        }
        if (n == 0) {  // the file shrank under us; what is missing reads as zeros
            std::memset(out.data(), 0, out.size());
            return {};
        }
        out = out.subspan(static_cast<std::size_t>(n));
        offset += static_cast<std::uint64_t>(n);
    }
    return {};
}

bool FlatFile::try_read_nowait(std::uint64_t offset, std::span<std::byte> out) {
    if (is_block_device_) return false;  // RWF_NOWAIT on block devices needs O_DIRECT
    while (!out.empty()) {
        iovec iov{out.data(), out.size()};
        ssize_t n = ::preadv2(fd_, &iov, 1, static_cast<off_t>(offset), RWF_NOWAIT);
        if (n <= 0)
            return false;  // EAGAIN (not cached), EOPNOTSUPP, EOF or an error: the blocking path decides
        out = out.subspan(static_cast<std::size_t>(n));
        offset += static_cast<std::uint64_t>(n);
    }
    return true;
}

std::error_code FlatFile::write(std::uint64_t offset, std::span<const std::byte> data, bool fua) {
    if (geometry_.read_only) return std::make_error_code(std::errc::read_only_file_system);
    const int flags = fua ? RWF_DSYNC : 0;
    if (direct_.fd < 0) {
        // A FUA write syncs after the kernel drops the inode lock; it must not hold up the others meanwhile.
        if (fua || is_block_device_) return pwrite_all(fd_, offset, data, flags);
        const std::lock_guard lock(buffered_writes_);
        return pwrite_all(fd_, offset, data, flags);
    }
    if (reinterpret_cast<std::uintptr_t>(data.data()) % direct_.memory_alignment == 0)
        return pwrite_all(direct_.fd, offset, data, flags);
    // Task buffers and write-same staging are page-aligned; anything else goes through a bounce buffer.
    std::vector<std::byte, PageAlignedAllocator<std::byte>> bounce;
    try {
        bounce.resize(std::min(kBounceSize, data.size()));
    } catch (const std::bad_alloc&) {
        return std::make_error_code(std::errc::not_enough_memory);
    }
    while (!data.empty()) {
        const std::size_t n = std::min(bounce.size(), data.size());
        std::copy_n(data.begin(), n, bounce.begin());
        if (auto ec = pwrite_all(direct_.fd, offset, std::span(bounce).first(n), flags)) return ec;
        data = data.subspan(n);
        offset += n;
    }
    return {};
}

std::error_code FlatFile::flush() {
    if (::fdatasync(fd_) != 0) return write_error();  // writeback can run out of space too (NFS, thin LVs)
    return {};
}

std::error_code FlatFile::zero_range(std::uint64_t offset, std::uint64_t length) {
    static constexpr std::byte kZeroBlock[4096]{};
    return write_same_by_writes(*this, offset, length,
                                std::span<const std::byte>(kZeroBlock, geometry_.logical_block_size));
}

std::error_code FlatFile::unmap(std::uint64_t offset, std::uint64_t length) {
    if (geometry_.read_only) return std::make_error_code(std::errc::read_only_file_system);
    if (length == 0) return {};
    if (is_block_device_) {
        // BLKZEROOUT lets the device discard where it can while guaranteeing zeros on read.
        std::uint64_t range[2] = {offset, length};
        if (::ioctl(fd_, BLKZEROOUT, range) == 0) return {};
        return zero_range(offset, length);
    }
    if (::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                    static_cast<off_t>(length)) == 0)
        return {};
    if (errno != EOPNOTSUPP) return write_error();
    return zero_range(offset, length);  // file system without hole punching: zeros keep the contract
}

std::error_code FlatFile::write_same(std::uint64_t offset, std::uint64_t length,
                                     std::span<const std::byte> pattern, bool may_unmap) {
    if (geometry_.read_only) return std::make_error_code(std::errc::read_only_file_system);
    if (all_zero(pattern)) {
        if (may_unmap) return unmap(offset, length);
        if (!is_block_device_ && ::fallocate(fd_, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
                                             static_cast<off_t>(offset), static_cast<off_t>(length)) == 0)
            return {};
    }
    return write_same_by_writes(*this, offset, length, pattern);
}

std::error_code FlatFile::extent_at(std::uint64_t offset, std::uint64_t max_length, Extent& out) {
    out = {Provisioning::mapped, max_length};
    if (is_block_device_) return {};
    off_t data = ::lseek(fd_, static_cast<off_t>(offset), SEEK_DATA);
    if (data < 0) {
        if (errno == ENXIO) {  // no data from here to the end of the file: all hole
            out.state = Provisioning::deallocated;
            return {};
        }
        if (errno == EINVAL || errno == EOPNOTSUPP) return {};  // file system cannot tell: report mapped
        return last_error();
    }
    auto udata = static_cast<std::uint64_t>(data);
    if (udata > offset) {
        out.state = Provisioning::deallocated;
        out.length = std::min(max_length, udata - offset);
    } else {
        off_t hole = ::lseek(fd_, static_cast<off_t>(offset), SEEK_HOLE);
        if (hole < 0) return last_error();
        out.length = std::min(max_length, static_cast<std::uint64_t>(hole) - offset);
    }
    // Report whole logical blocks only.
    auto bs = geometry_.logical_block_size;
    if (out.length >= bs)
        out.length -= out.length % bs;
    else
        out.length = std::min<std::uint64_t>(max_length, bs);
    return {};
}

std::string FlatFile::describe() const {
    return std::string(is_block_device_ ? "block device " : "flat file ") + path_.string() +
           (direct_.fd >= 0 ? " (direct writes)" : "");
}

}  // namespace bootherd::block
