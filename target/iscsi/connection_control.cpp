// Connection: NOP-Out, Text (SendTargets), Logout and task management.
#include "target/iscsi/connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>

#include "common/crc32c.hpp"
#include "common/log.hpp"
#include "target/iscsi/connection_detail.hpp"
#include "target/iscsi/server_context.hpp"
#include "target/iscsi/text.hpp"

namespace bootherd::iscsi {
namespace asio = boost::asio;
using asio::awaitable;
using namespace connection_detail;

// ---------------------------------------------------------------------------------------------------------------
// NOP, Text, Logout

awaitable<bool> Connection::on_nop_out(const NopOut& nop, std::uint32_t length) {
    if (!session_->admit(nop.cmd_sn, nop.immediate)) co_return co_await discard_segment(length);
    if (nop.initiator_task_tag == kReservedTag) {  // an answer to our ping, or the initiator's own ping
        if (ping_outstanding_ && nop.target_transfer_tag == ping_tag_) ping_outstanding_ = false;
        co_return co_await discard_segment(length);
    }
    if (!co_await read_segment_to_buffer(length)) co_return false;
    Outgoing* out = push(Outgoing::Kind::control, Outgoing::Numbers::advance);
    if (!out) co_return false;
    const std::uint32_t echoed =
        std::min<std::uint32_t>(length, session_->params().initiator_max_recv_data_segment_length);
    NopIn pdu;
    pdu.lun = nop.lun;
    pdu.initiator_task_tag = nop.initiator_task_tag;
    pdu.data_segment_length = echoed;
    build(out->bhs, pdu, {});
    out->data.assign(rx_data_.begin(), rx_data_.begin() + echoed);
    wake_writer();
    co_return true;
}

awaitable<bool> Connection::on_text(const TextRequest& request, std::uint32_t length) {
    if (!session_->admit(request.cmd_sn, request.immediate)) co_return co_await discard_segment(length);
    if (!co_await read_segment_to_buffer(length)) co_return false;
    if (request.target_transfer_tag == kTextContinuationTag && text_reply_sent_ < text_reply_.size()) {
        queue_text_response(request);  // the initiator asks for the rest of a long answer
        co_return true;
    }
    if (text_pending_.size() + rx_data_.size() > kMaxTextSize) {
        queue_reject(RejectReason::protocol_error, rx_bhs_);
        co_return false;
    }
    text_pending_.insert(text_pending_.end(), rx_data_.begin(), rx_data_.end());
    text_reply_.clear();
    text_reply_sent_ = 0;
    if (request.continue_bit) {
        queue_text_response(request);  // empty acknowledgement; more text follows
        co_return true;
    }
    const ParsedText parsed = parse_text(text_pending_);
    text_pending_.clear();
    if (parsed.error != TextError::none) {
        queue_reject(RejectReason::protocol_error, rx_bhs_);
        co_return true;
    }
    const std::string tpgt = std::to_string(context_.options.portal_group_tag);
    // The directory may block (catalog queries): list it on the disk pool.
    start_deferred_disk_workers();  // commands read before this Text must not wait for it
    const auto nodes = co_await on_disk_pool(context_.disk_pool, [&] { return context_.targets->all(); });
    if (phase_ != Phase::full_feature) co_return false;
    for (const KeyValue& kv : parsed.pairs) {
        if (kv.key != "SendTargets") {
            append_pair(text_reply_, kv.key, "NotUnderstood");
            continue;
        }
        // "All" lists everything this initiator may log in to (discovery only); a name lists that target;
        // empty means the session's own target.
        for (const auto& node : nodes) {
            const bool wanted = kv.value == "All"  ? (session_->discovery() || node->iqn == target_iqn_)
                                : kv.value.empty() ? node->iqn == target_iqn_
                                                   : node->iqn == kv.value;
            if (!wanted || !node->allows(initiator_name_) || !node->allows_address(peer_address_)) continue;
            // A CHAP-protected target is shown only to a session that proved to be its CHAP user.
            if (node->chap && node->iqn != target_iqn_ && node->chap->user != chap_user_) continue;
            append_pair(text_reply_, "TargetName", node->iqn);
            append_pair(text_reply_, "TargetAddress", portal_ + "," + tpgt);
        }
    }
    queue_text_response(request);
    co_return true;
}

void Connection::queue_text_response(const TextRequest& request) {
    Outgoing* out = push(Outgoing::Kind::control, Outgoing::Numbers::advance);
    if (!out) return;
    TextResponse pdu;
    pdu.initiator_task_tag = request.initiator_task_tag;
    if (request.continue_bit) {
        pdu.final_bit = false;
        pdu.target_transfer_tag = kTextContinuationTag;
        out->data.clear();
    } else {
        const std::size_t chunk = std::min<std::size_t>(
            text_reply_.size() - text_reply_sent_, session_->params().initiator_max_recv_data_segment_length);
        out->data.assign(text_reply_.begin() + static_cast<std::ptrdiff_t>(text_reply_sent_),
                         text_reply_.begin() + static_cast<std::ptrdiff_t>(text_reply_sent_ + chunk));
        text_reply_sent_ += chunk;
        const bool more = text_reply_sent_ < text_reply_.size();
        pdu.final_bit = !more;
        pdu.continue_bit = more;
        pdu.target_transfer_tag = more ? kTextContinuationTag : kReservedTag;
    }
    pdu.data_segment_length = static_cast<std::uint32_t>(out->data.size());
    build(out->bhs, pdu, {});
    wake_writer();
}

void Connection::on_logout(const LogoutRequest& request) {
    if (!session_->admit(request.cmd_sn, request.immediate)) return;
    const std::uint32_t tag = request.initiator_task_tag;
    if (request.reason == 2) {  // remove the connection for recovery: not at ErrorRecoveryLevel 0
        Outgoing* out = push(Outgoing::Kind::control, Outgoing::Numbers::advance);
        if (!out) return;
        build(out->bhs, LogoutResponse{tag, 2, 0, 0}, {});
        out->data.clear();
        wake_writer();
        return;
    }
    auto waiter = std::make_unique<Waiter>();
    abort_local(std::nullopt, std::nullopt, *waiter);
    phase_ = Phase::draining;  // read nothing more; the reader ends after this PDU
    end_reason_ = "logout";
    waiter->done = [this, tag] {
        Outgoing* out = push(Outgoing::Kind::control, Outgoing::Numbers::advance);
        if (!out) return;
        build(out->bhs, LogoutResponse{tag, 0, 0, 0}, {});
        out->data.clear();
        wake_writer();
    };
    add_waiter(std::move(waiter));
}

// ---------------------------------------------------------------------------------------------------------------
// Task management

void Connection::on_task_management(const TaskManagementRequest& request) {
    if (!session_->admit(request.cmd_sn, request.immediate)) return;
    const std::uint32_t tag = request.initiator_task_tag;
    TmfPlan plan;
    if (session_->discovery()) {
        plan.response = TmfResponse::rejected;
    } else {
        const std::uint64_t lun = decode_lun(request.lun);
        TaskSlot* referenced = request.function == static_cast<std::uint8_t>(TmfFunction::abort_task)
                                   ? session_->find(request.referenced_task_tag)
                                   : nullptr;
        // A task whose status is already queued is complete: there is nothing left to abort.
        const bool found = referenced && referenced->state != TaskSlot::State::responding;
        plan = plan_task_management(request, session_->device().has_lun(lun), found, session_->exp_cmd_sn());
    }
    if (plan.response != TmfResponse::complete) {
        finish_task_management(tag, plan);
        return;
    }
    auto waiter = std::make_unique<Waiter>();
    const std::optional<std::uint64_t> lun = plan.all_luns ? std::nullopt : std::optional(plan.lun);
    if (plan.single_task) {
        abort_local(std::nullopt, request.referenced_task_tag, *waiter);
    } else {
        abort_local(lun, std::nullopt, *waiter);
    }
    if (plan.other_sessions) {
        const auto others = context_.registry.of_target(target_iqn_, this);
        waiter->remote_pending = others.size();
        Waiter* raw = waiter.get();  // lives until remote_pending reaches zero
        for (const auto& other : others) {
            other->abort_for_other_session(lun, session_->nexus(), plan.notify_cleared,
                                           [self = shared_from_this(), raw] {
                                               asio::post(self->strand_, [self, raw] {
                                                   --raw->remote_pending;
                                                   self->check_waiters();
                                               });
                                           });
        }
    }
    waiter->done = [this, tag, plan] { finish_task_management(tag, plan); };
    add_waiter(std::move(waiter));
}

void Connection::finish_task_management(std::uint32_t tag, const TmfPlan& plan) {
    if (phase_ == Phase::closed) return;
    if (plan.response == TmfResponse::complete && plan.reset)
        session_->device().reset(*plan.reset, plan.lun, session_->nexus());
    Outgoing* out = push(Outgoing::Kind::control, Outgoing::Numbers::advance);
    if (!out) return;
    build(out->bhs, TaskManagementResponse{tag, plan.response}, {});
    out->data.clear();
    wake_writer();
    if (plan.response == TmfResponse::complete && plan.close_sessions) {
        for (const auto& other : context_.registry.of_target(target_iqn_, this))
            other->close("target cold reset");
        begin_drain("target cold reset");
    }
}

void Connection::abort_for_other_session(std::optional<std::uint64_t> lun, scsi::Nexus by,
                                         bool notify_cleared, std::function<void()> done) {
    asio::post(strand_, [self = shared_from_this(), lun, by = std::move(by), notify_cleared,
                         done = std::move(done)]() mutable {
        if (!self->session_ || self->phase_ == Phase::closed) {
            done();
            return;
        }
        auto waiter = std::make_unique<Waiter>();
        self->abort_local(lun, std::nullopt, *waiter);
        if (notify_cleared)
            self->session_->device().tasks_cleared(lun.value_or(0), by, self->session_->nexus().id);
        waiter->done = std::move(done);
        self->add_waiter(std::move(waiter));
    });
}

void Connection::abort_local(std::optional<std::uint64_t> lun, std::optional<std::uint32_t> task_tag,
                             Waiter& waiter) {
    for (std::size_t i = 0; i < session_->pool_size(); ++i) {
        TaskSlot& slot = *session_->slot(i);
        if (slot.state == TaskSlot::State::free) continue;
        if (lun && slot.task.lun != *lun) continue;
        if (task_tag && slot.initiator_task_tag != *task_tag) continue;
        switch (slot.state) {
            case TaskSlot::State::receiving:
                session_->release(slot);
                break;
            case TaskSlot::State::executing:
                slot.aborted.store(true, std::memory_order_release);
                waiter.slots.push_back(slot.index);
                break;
            case TaskSlot::State::responding:  // already done; its status is on its way
            case TaskSlot::State::free:
                break;
        }
    }
}

void Connection::add_waiter(std::unique_ptr<Waiter> waiter) {
    waiters_.push_back(std::move(waiter));
    check_waiters();
}

void Connection::task_finished(std::uint16_t slot_index) {
    for (auto& w : waiters_)
        std::erase(w->slots, slot_index);
    check_waiters();
}

void Connection::check_waiters() {
    for (std::size_t i = 0; i < waiters_.size();) {
        if (waiters_[i]->slots.empty() && waiters_[i]->remote_pending == 0) {
            std::unique_ptr<Waiter> ready = std::move(waiters_[i]);
            waiters_.erase(waiters_.begin() + static_cast<std::ptrdiff_t>(i));
            if (ready->done) ready->done();
        } else {
            ++i;
        }
    }
    if (reader_waiting_) reader_wake_.cancel();
}

}  // namespace bootherd::iscsi
