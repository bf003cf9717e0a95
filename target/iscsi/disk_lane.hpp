#pragma once
// One session's queue of tasks that must run on the shared disk pool.
//
// Handing every command to the pool on its own costs two thread wake-ups per command (network thread → disk
// thread → network thread), which dominates small writes. A lane batches both hops: a disk worker, once
// started, keeps taking the session's queued tasks until none are left, and finished tasks pile up behind a
// single completion notice until the connection's strand collects them. The lane also bounds how many of a
// session's tasks run at once and makes workers yield after a few tasks, so that one busy session cannot
// occupy the whole pool during a boot storm: sessions take turns in the pool's FIFO queue.
//
// Pure bookkeeping, no threads: the connection posts workers and completion notices as told. Fixed capacity,
// no allocation after construction.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>

namespace bootherd::iscsi {

class DiskLane {
  public:
    // Tasks a worker runs before it goes to the back of the pool's queue.
    static constexpr unsigned kTasksPerTurn = 8;
    // A further worker starts only when this many tasks per running worker are waiting: small writes finish
    // faster than a wake-up, so one worker usually drains the queue alone.
    static constexpr std::size_t kQueuedPerWorker = 4;

    // `capacity`: the most tasks ever queued or finished at once (the session's task pool size).
    DiskLane(std::size_t capacity, unsigned max_workers);

    // Strand: queues a task. True means the caller must start a worker (post one to the pool).
    [[nodiscard]] bool push(std::uint16_t task);

    // Worker: the next task to run, or nullopt when the queue is empty; the worker has then ended.
    std::optional<std::uint16_t> next();

    // Worker: records a finished task. True means the caller must post a completion notice to the strand
    // (none is pending); otherwise the notice already on its way will collect this task too.
    [[nodiscard]] bool finished(std::uint16_t task);

    // Strand, from the completion notice: moves the finished tasks into `out` (at least capacity() long) and
    // returns how many. Tasks finishing after this get a new notice.
    std::size_t take_finished(std::span<std::uint16_t> out);

    std::size_t capacity() const { return capacity_; }

  private:
    class Ring {
      public:
        explicit Ring(std::size_t capacity)
            : items_(std::make_unique<std::uint16_t[]>(capacity)), capacity_(capacity) {}
        bool push(std::uint16_t v);
        std::optional<std::uint16_t> pop();
        std::size_t size() const { return size_; }

      private:
        std::unique_ptr<std::uint16_t[]> items_;
        std::size_t capacity_;
        std::size_t head_ = 0, size_ = 0;
    };

    std::size_t capacity_;
    unsigned max_workers_;
    std::mutex mutex_;
    Ring queued_;
    Ring finished_;
    unsigned workers_ = 0;
    bool notice_pending_ = false;
};

}  // namespace bootherd::iscsi
