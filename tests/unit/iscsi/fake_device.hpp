#pragma once
// A small in-memory scsi::TargetDevice for transport tests: TEST UNIT READY, INQUIRY, READ CAPACITY(10),
// READ/WRITE(10/16); everything else is CHECK CONDITION / ILLEGAL REQUEST. Execution can be held at a gate so
// tests can observe task management while a command sits on a disk thread.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <vector>

#include "common/bytes.hpp"
#include "target/scsi/target_device.hpp"

namespace bootherd::iscsi::test {

class FakeDevice final : public scsi::TargetDevice {
  public:
    static constexpr std::uint32_t kBlock = 512;

    explicit FakeDevice(std::uint32_t blocks) : data_(std::size_t{blocks} * kBlock) {}

    void attach(const scsi::Nexus&) override { ++attached; }
    void detach(std::uint64_t) override { ++detached; }

    bool runs_inline(const scsi::Task& task) const override {
        const std::uint8_t op = task.cdb_bytes[0];
        return op != 0x28 && op != 0x2a && op != 0x88 && op != 0x8a;
    }

    // Models a backend with nothing cached: every I/O goes through the disk pool, where the tests can hold
    // it.
    bool try_execute_nowait(scsi::Task&) override { return false; }

    void execute(scsi::Task& task) override {
        if (!runs_inline(task)) {
            std::unique_lock lock(mutex_);
            ++waiting_;
            gate_changed_.notify_all();
            gate_changed_.wait(lock, [&] { return open_; });
            --waiting_;
        }
        ++executed;
        if (task.lun != 0) return fail(task, 0x05, 0x25);  // LOGICAL UNIT NOT SUPPORTED
        const std::uint8_t* cdb = task.cdb_bytes.data();
        switch (cdb[0]) {
            case 0x00:
                return;
            case 0x12: {
                auto out = task.data_in(std::min<std::uint32_t>(36, load_be<std::uint16_t>(cdb + 3)));
                std::vector<std::byte> inquiry(36);
                inquiry[2] = std::byte{5};
                inquiry[4] = std::byte{31};
                std::memcpy(inquiry.data() + 8, "BOOTHERDFAKE DISK       0001", 28);
                std::copy_n(inquiry.begin(), out.size(), out.begin());
                return;
            }
            case 0x25: {
                auto out = task.data_in(8);
                store_be(reinterpret_cast<std::uint8_t*>(out.data()),
                         static_cast<std::uint32_t>(blocks() - 1));
                store_be(reinterpret_cast<std::uint8_t*>(out.data()) + 4, kBlock);
                return;
            }
            case 0x28:
            case 0x2a:
                return transfer(task, load_be<std::uint32_t>(cdb + 2), load_be<std::uint16_t>(cdb + 7),
                                cdb[0] == 0x2a);
            case 0x88:
            case 0x8a:
                return transfer(task, load_be<std::uint64_t>(cdb + 2), load_be<std::uint32_t>(cdb + 10),
                                cdb[0] == 0x8a);
            default:
                return fail(task, 0x05, 0x20);  // INVALID COMMAND OPERATION CODE
        }
    }

    void fail_delivery(scsi::Task& task) override {
        ++delivery_failures;
        fail(task, 0x0b, 0x47, 0x05);  // ABORTED COMMAND / PROTOCOL SERVICE CRC ERROR
    }

    void reset(scsi::ResetKind kind, std::uint64_t lun, const scsi::Nexus&) override {
        const std::lock_guard lock(mutex_);
        resets.push_back({kind, lun});
    }
    void tasks_cleared(std::uint64_t, const scsi::Nexus&, std::uint64_t) override { ++cleared; }
    bool has_lun(std::uint64_t lun) const override { return lun == 0; }
    bool flush_all() override {
        ++flushes;
        return true;
    }

    // Holds every backend command until release().
    void hold() {
        const std::lock_guard lock(mutex_);
        open_ = false;
    }
    void release() {
        const std::lock_guard lock(mutex_);
        open_ = true;
        gate_changed_.notify_all();
    }
    void wait_until_waiting(int n) {
        std::unique_lock lock(mutex_);
        gate_changed_.wait(lock, [&] { return waiting_ >= n; });
    }

    std::uint64_t blocks() const { return data_.size() / kBlock; }
    std::vector<std::byte>& data() { return data_; }

    std::atomic<int> attached{0}, detached{0}, executed{0}, cleared{0}, flushes{0}, delivery_failures{0};
    struct Reset {
        scsi::ResetKind kind;
        std::uint64_t lun;
    };
    std::vector<Reset> resets;

  private:
    static void fail(scsi::Task& task, std::uint8_t key, std::uint8_t asc, std::uint8_t ascq = 0) {
        task.status = scsi::Status::check_condition;
        task.sense.fill(0);
        task.sense[0] = 0x70;
        task.sense[2] = key;
        task.sense[7] = 10;
        task.sense[12] = asc;
        task.sense[13] = ascq;
        task.sense_length = 18;
    }

    void transfer(scsi::Task& task, std::uint64_t lba, std::uint64_t count, bool write) {
        if (lba + count > blocks()) return fail(task, 0x05, 0x21);  // LBA OUT OF RANGE
        const std::size_t bytes = count * kBlock;
        const std::size_t offset = lba * kBlock;
        if (write) {
            const std::size_t n = std::min<std::size_t>(bytes, task.data_out_length);
            std::copy_n(task.data_out().begin(), n, data_.begin() + static_cast<std::ptrdiff_t>(offset));
        } else {
            auto out = task.data_in(bytes);
            std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(offset), bytes, out.begin());
        }
    }

    std::vector<std::byte> data_;
    std::mutex mutex_;
    std::condition_variable gate_changed_;
    bool open_ = true;
    int waiting_ = 0;
};

}  // namespace bootherd::iscsi::test
