// Crash test: a child process writes and flushes; the parent kills it with SIGKILL at a random moment,
// reopens the file (replaying its log) and checks that every write acknowledged by a flush survived and that
// every sector holds either its acknowledged content or the content of a later write.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>

#include "imagestore/image_chain.hpp"
#include "imagestore/vhdx_file.hpp"
#include "test_util.hpp"

using namespace bootherd;
using namespace bootherd::imagestore;
using test::TempDir;

namespace {

constexpr std::uint64_t kMiB = 1 << 20;
constexpr std::uint64_t kSector = 512;
constexpr std::uint64_t kSize = 8 * kMiB;
constexpr std::uint64_t kSectors = kSize / kSector;
constexpr std::int64_t kZero = -1;
constexpr std::int64_t kBase = 1'000'000;  // content id of the parent's sectors

struct Op {
    bool unmap = false;
    std::uint64_t first = 0, count = 0;
    bool flush_after = false;
};

// Sector s written by op k holds the 64-bit value (k << 32 | s) repeated.
void fill_sector(std::byte* p, std::int64_t id, std::uint64_t sector) {
    std::uint64_t v = (static_cast<std::uint64_t>(id) << 32) | sector;
    for (std::size_t i = 0; i < kSector; i += 8)
        std::memcpy(p + i, &v, 8);
}

std::int64_t identify(const std::byte* p, std::uint64_t sector) {
    if (std::all_of(p, p + kSector, [](std::byte b) { return b == std::byte{0}; })) return kZero;
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    std::array<std::byte, kSector> expect;
    fill_sector(expect.data(), static_cast<std::int64_t>(v >> 32), sector);
    if ((v & 0xffffffff) != sector || std::memcmp(expect.data(), p, kSector) != 0) return -2;  // garbage
    return static_cast<std::int64_t>(v >> 32);
}

[[noreturn]] void run_child(const std::string& path, const std::vector<Op>& ops, int report_fd) {
    try {
        auto chain = open_image(path, false);
        std::vector<std::byte> buf;
        for (std::size_t k = 0; k < ops.size(); ++k) {
            const Op& op = ops[k];
            if (op.unmap) {
                if (chain->unmap(op.first * kSector, op.count * kSector)) ::_exit(2);
            } else {
                buf.resize(op.count * kSector);
                for (std::uint64_t i = 0; i < op.count; ++i)
                    fill_sector(buf.data() + i * kSector, static_cast<std::int64_t>(k), op.first + i);
                if (chain->write(op.first * kSector, buf, false)) ::_exit(2);
            }
            if (op.flush_after) {
                if (chain->flush()) ::_exit(2);
                std::uint32_t acked = static_cast<std::uint32_t>(k);
                if (::write(report_fd, &acked, sizeof acked) != sizeof acked) ::_exit(3);
            }
        }
    } catch (...) {
        ::_exit(4);
    }
    ::_exit(0);  // never closes cleanly: the log stays active
}

}  // namespace

TEST_CASE("crash safety: SIGKILL at random moments loses no flushed write and never corrupts the file") {
    TempDir dir(true);
    std::mt19937_64 rng(20261124);
    const std::string base = dir.file("base.vhdx");
    {
        auto f = VhdxFile::create_dynamic(base, {kSize, static_cast<std::uint32_t>(kMiB), kSector, 4096});
        std::vector<std::byte> buf(kSize / 2);
        for (std::uint64_t s = 0; s < kSectors / 2; ++s)
            fill_sector(buf.data() + s * kSector, kBase, s + kSectors / 4);
        f->write(kSize / 4, buf, false);
    }
    int acked_total = 0;
    for (int iteration = 0; iteration < 60; ++iteration) {
        CAPTURE(iteration);
        const bool differencing = iteration % 2 == 1;
        std::string path = dir.file("crash" + std::to_string(iteration) + ".vhdx");
        if (differencing)
            VhdxFile::create_differencing(path, base)->close();
        else
            VhdxFile::create_dynamic(path, {kSize, static_cast<std::uint32_t>(kMiB), kSector, 4096})->close();

        std::vector<Op> ops(400);
        for (Op& op : ops) {
            op.unmap = rng() % 5 == 0;
            op.first = rng() % kSectors;
            op.count = 1 + rng() % std::min<std::uint64_t>(kSectors - op.first, kMiB / kSector);
            op.flush_after = rng() % 6 == 0;
        }
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::close(fds[0]);
            run_child(path, ops, fds[1]);
        }
        ::close(fds[1]);
        // Let the child acknowledge a random number of flushes, then kill it a random moment later.
        std::int64_t acked = -1;
        std::uint32_t value;
        for (std::uint64_t wait_for = rng() % 6; wait_for > 0; --wait_for) {
            if (::read(fds[0], &value, sizeof value) != sizeof value) break;
            acked = value;
        }
        ::usleep(static_cast<useconds_t>(rng() % 3000));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        REQUIRE_MESSAGE((WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0)),
                        "child failed with status ", status);
        while (::read(fds[0], &value, sizeof value) == sizeof value)
            acked = value;
        ::close(fds[0]);
        if (acked >= 0) ++acked_total;

        // Acknowledged state, and what later (unacknowledged) operations may have left in each sector.
        std::vector<std::int64_t> expect(kSectors, kZero);
        if (differencing)
            for (std::uint64_t s = kSectors / 4; s < 3 * kSectors / 4; ++s)
                expect[s] = kBase;
        for (std::int64_t k = 0; k <= acked; ++k) {
            const Op& op = ops[static_cast<std::size_t>(k)];
            std::fill_n(expect.begin() + static_cast<std::ptrdiff_t>(op.first), op.count,
                        op.unmap ? kZero : k);
        }
        auto later_op_left = [&](std::uint64_t s, std::int64_t id) {
            auto covers = [&](const Op& op) { return s >= op.first && s < op.first + op.count; };
            if (id >= 0)
                return id > acked && id < static_cast<std::int64_t>(ops.size()) &&
                       !ops[static_cast<std::size_t>(id)].unmap && covers(ops[static_cast<std::size_t>(id)]);
            if (id != kZero) return false;
            for (std::size_t k = static_cast<std::size_t>(acked + 1); k < ops.size(); ++k)
                if (ops[k].unmap && covers(ops[k])) return true;
            return false;
        };
        std::vector<std::byte> disk;
        {
            auto chain = open_image(path, false);  // replays the log
            disk = test::read_all(*chain);
        }
        std::size_t bad = 0;
        for (std::uint64_t s = 0; s < kSectors; ++s) {
            std::int64_t got = identify(disk.data() + s * kSector, s);
            if (got != expect[s] && !later_op_left(s, got)) {
                if (bad++ < 5)
                    MESSAGE("sector ", s, ": found ", got, ", expected ", expect[s], " or a later write");
            }
        }
        CHECK(bad == 0);
        // The file is clean again: it opens read-only (no active log) and reads the same.
        auto again = test::read_all(*open_image(path, true));
        CHECK(std::memcmp(again.data(), disk.data(), disk.size()) == 0);
        std::filesystem::remove(path);
    }
    MESSAGE(acked_total, " of 60 runs were killed after at least one acknowledged flush");
    CHECK(acked_total > 30);
}
