#include "target/iscsi/disk_lane.hpp"

#include <algorithm>
#include <stdexcept>

namespace bootherd::iscsi {

bool DiskLane::Ring::push(std::uint16_t v) {
    if (size_ == capacity_) return false;
    items_[(head_ + size_) % capacity_] = v;
    ++size_;
    return true;
}

std::optional<std::uint16_t> DiskLane::Ring::pop() {
    if (size_ == 0) return std::nullopt;
    const std::uint16_t v = items_[head_];
    head_ = (head_ + 1) % capacity_;
    --size_;
    return v;
}

DiskLane::DiskLane(std::size_t capacity, unsigned max_workers)
    : capacity_(capacity), max_workers_(std::max(1u, max_workers)), queued_(capacity), finished_(capacity) {}

bool DiskLane::push(std::uint16_t task) {
    const std::lock_guard lock(mutex_);
    // Each task is queued at most once, so the ring never fills up; a full ring is a bug in the caller.
    if (!queued_.push(task)) throw std::logic_error("DiskLane: more tasks queued than its capacity");
    if (workers_ == 0 || (workers_ < max_workers_ && queued_.size() >= kQueuedPerWorker * workers_)) {
        ++workers_;
        return true;
    }
    return false;
}

std::optional<std::uint16_t> DiskLane::next() {
    const std::lock_guard lock(mutex_);
    auto task = queued_.pop();
    if (!task) --workers_;
    return task;
}

bool DiskLane::finished(std::uint16_t task) {
    const std::lock_guard lock(mutex_);
    if (!finished_.push(task)) throw std::logic_error("DiskLane: more tasks finished than its capacity");
    const bool notify = !notice_pending_;
    notice_pending_ = true;
    return notify;
}

std::size_t DiskLane::take_finished(std::span<std::uint16_t> out) {
    if (out.size() < capacity_) throw std::logic_error("DiskLane: take_finished needs room for every task");
    const std::lock_guard lock(mutex_);
    std::size_t n = 0;
    while (auto task = finished_.pop())
        out[n++] = *task;
    notice_pending_ = false;
    return n;
}

}  // namespace bootherd::iscsi
