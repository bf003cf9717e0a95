#include "target/iscsi/session.hpp"

#include <algorithm>

namespace bootherd::iscsi {

Session::Session(std::shared_ptr<const TargetNode> target, scsi::Nexus nexus, SessionParams params,
                 std::uint32_t queue_depth, std::uint32_t exp_cmd_sn, std::uint32_t stat_sn)
    : target_(std::move(target)),
      nexus_(std::move(nexus)),
      params_(params),
      queue_depth_(std::max<std::uint32_t>(queue_depth, 1)),
      exp_cmd_sn_(exp_cmd_sn),
      stat_sn_(stat_sn),
      advertised_max_cmd_sn_(exp_cmd_sn + queue_depth_ - 1),
      pool_size_(target_ ? queue_depth_ + kImmediateReserve : 0),
      slots_(std::make_unique<TaskSlot[]>(pool_size_)) {
    free_.reserve(pool_size_);
    for (std::size_t i = pool_size_; i-- > 0;) {
        slots_[i].index = static_cast<std::uint16_t>(i);
        free_.push_back(static_cast<std::uint16_t>(i));
    }
    if (target_) device().attach(nexus_);
}

Session::~Session() {
    if (target_) device().detach(nexus_.id);
}

bool Session::admit(std::uint32_t cmd_sn, bool immediate) {
    if (immediate) return true;
    // Judge against what the initiator was told, not against a window that grew since (libiscsi checks this).
    if (!serial_less_equal(exp_cmd_sn_, cmd_sn) || !serial_less_equal(cmd_sn, advertised_max_cmd_sn_))
        return false;
    exp_cmd_sn_ = cmd_sn + 1;
    return true;
}

SequenceNumbers Session::numbers(bool advance) {
    SequenceNumbers sn;
    sn.stat_sn = advance ? stat_sn_++ : stat_sn_;
    sn.exp_cmd_sn = exp_cmd_sn_;
    // The window never grows past the tasks we can hold, so an in-window command always finds one.
    sn.max_cmd_sn = exp_cmd_sn_ + (queue_depth_ - std::min(queued_, queue_depth_)) - 1;
    if (serial_less_equal(advertised_max_cmd_sn_, sn.max_cmd_sn)) advertised_max_cmd_sn_ = sn.max_cmd_sn;
    return sn;
}

TaskSlot* Session::allocate(bool immediate, std::uint32_t initiator_task_tag) {
    if (free_.empty()) return nullptr;
    if (immediate && immediate_ >= kImmediateReserve) return nullptr;
    TaskSlot& slot = slots_[free_.back()];
    free_.pop_back();
    ++in_use_;
    if (immediate) {
        ++immediate_;
    } else {
        ++queued_;
    }
    slot.immediate = immediate;
    slot.initiator_task_tag = initiator_task_tag;
    slot.aborted.store(false, std::memory_order_relaxed);
    slot.state = TaskSlot::State::receiving;
    slot.task.reset();
    slot.task.nexus = &nexus_;
    return &slot;
}

void Session::release(TaskSlot& slot) {
    if (slot.state == TaskSlot::State::free) return;
    slot.state = TaskSlot::State::free;
    settle(slot);
    --in_use_;
    if (slot.immediate) {
        --immediate_;
    } else {
        --queued_;
    }
    free_.push_back(slot.index);
}

void Session::charge(TaskSlot& slot, std::size_t need) {
    const std::size_t charged = std::max(slot.task.buffer_capacity(), need);
    buffer_bytes_ = buffer_bytes_ - slot.charged + charged;
    slot.charged = charged;
}

void Session::settle(TaskSlot& slot) {
    buffer_bytes_ = buffer_bytes_ - slot.charged + slot.task.buffer_capacity();
    slot.charged = slot.task.buffer_capacity();
}

void Session::trim(std::size_t target) {
    // The least recently freed first: allocate() takes from the back, so the warm buffers stay.
    for (std::size_t i = 0; i < free_.size() && buffer_bytes_ > target; ++i) {
        TaskSlot& slot = slots_[free_[i]];
        if (slot.charged == 0) continue;
        slot.task = scsi::Task{};
        settle(slot);
    }
}

bool Session::any_in(TaskSlot::State state) const {
    for (std::size_t i = 0; i < pool_size_; ++i) {
        if (slots_[i].state == state) return true;
    }
    return false;
}

TaskSlot* Session::find(std::uint32_t initiator_task_tag) {
    for (std::size_t i = 0; i < pool_size_; ++i) {
        TaskSlot& s = slots_[i];
        if (s.state != TaskSlot::State::free && s.initiator_task_tag == initiator_task_tag) return &s;
    }
    return nullptr;
}

}  // namespace bootherd::iscsi
