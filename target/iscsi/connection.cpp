#include "target/iscsi/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <cstdio>

#include "common/bytes.hpp"
#include "common/crc32c.hpp"
#include "common/log.hpp"
#include "target/iscsi/server_context.hpp"
#include "target/iscsi/text.hpp"

namespace bootherd::iscsi {
namespace asio = boost::asio;
using asio::awaitable;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::uint32_t kMaxTransferLength = 64u << 20;  // bounds the memory one command may pin
constexpr std::size_t kControlLimit = 32;                // queued control PDUs before the reader pauses
constexpr std::size_t kControlCapacity = kControlLimit + 2 * WriteTransfer::kMaxOutstanding + 8;
constexpr std::size_t kBatchPdus = 16;  // Data-In PDUs per gathered write
constexpr std::uint32_t kTextContinuationTag = 1;
constexpr std::array<std::uint8_t, 4> kPadding{};

std::string hex_isid(std::uint64_t isid) {
    std::array<char, 16> text{};
    std::snprintf(text.data(), text.size(), "%012llx", static_cast<unsigned long long>(isid));
    return text.data();
}

std::string format_endpoint(const asio::ip::tcp::endpoint& ep) {
    asio::ip::address address = ep.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
    return host + ":" + std::to_string(ep.port());
}

void put_digest(std::uint8_t* at, std::uint32_t crc) {
    store_le(at, crc);
}

}  // namespace

Connection::Connection(asio::ip::tcp::socket socket, Executor strand, ServerContext& context)
    : context_(context),
      socket_(std::move(socket)),
      strand_(std::move(strand)),
      writer_wake_(strand_),
      reader_wake_(strand_),
      watchdog_timer_(strand_),
      accepted_at_(std::chrono::steady_clock::now()),
      last_activity_(accepted_at_),
      ring_capacity_(context.options.queue_depth + Session::kImmediateReserve + kControlCapacity),
      ring_(std::make_unique<Outgoing[]>(ring_capacity_)),
      tx_scratch_(kBatchPdus + 1) {
    boost::system::error_code ec;
    const auto remote = socket_.remote_endpoint(ec);
    peer_ = ec ? "?" : format_endpoint(remote);
    const auto local = socket_.local_endpoint(ec);
    portal_ = ec ? "?" : format_endpoint(local);
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    // iPXE never answers NOP-In and abandons its connection when the OS takes over: keepalive finds dead
    // peers.
    socket_.set_option(asio::socket_base::keep_alive(true), ec);
    socket_.set_option(asio::detail::socket_option::integer<IPPROTO_TCP, TCP_KEEPIDLE>(30), ec);
    socket_.set_option(asio::detail::socket_option::integer<IPPROTO_TCP, TCP_KEEPINTVL>(10), ec);
    socket_.set_option(asio::detail::socket_option::integer<IPPROTO_TCP, TCP_KEEPCNT>(3), ec);
    tx_buffers_.reserve(tx_scratch_.size() * 4);
    login_.emplace(*context_.targets, context_.options.portal_group_tag,
                   [&ctx = context_] { return ctx.allocate_tsih(); });
}

Connection::~Connection() = default;

void Connection::start() {
    asio::co_spawn(strand_, read_loop(shared_from_this()), asio::detached);
    asio::co_spawn(strand_, write_loop(shared_from_this()), asio::detached);
    asio::co_spawn(strand_, watchdog(shared_from_this()), asio::detached);
}

void Connection::shutdown() {
    asio::post(strand_, [self = shared_from_this()] {
        if (self->phase_ == Phase::login) {
            self->close_on_strand("server stopping");
        } else if (self->phase_ == Phase::full_feature) {
            self->begin_drain("server stopping");
        }
    });
}

void Connection::close(std::string reason) {
    asio::post(strand_,
               [self = shared_from_this(), reason = std::move(reason)] { self->close_on_strand(reason); });
}

SessionInfo Connection::info() const {
    SessionInfo i;
    if (in_full_feature()) {
        i.initiator_name = initiator_name_;
        i.target_iqn = target_iqn_;
        i.isid = isid_;
    }
    i.peer = peer_;
    i.bytes_read = bytes_read_.load(std::memory_order_relaxed);
    i.bytes_written = bytes_written_.load(std::memory_order_relaxed);
    i.commands = commands_.load(std::memory_order_relaxed);
    return i;
}

std::chrono::steady_clock::time_point Connection::deadline() const {
    if (phase_ == Phase::login) return accepted_at_ + context_.options.login_timeout;
    return last_activity_ + context_.options.idle_timeout;
}

awaitable<void> Connection::watchdog(std::shared_ptr<Connection> /*keeps this alive*/) {
    while (phase_ != Phase::closed) {
        watchdog_timer_.expires_at(deadline());
        co_await watchdog_timer_.async_wait(kNoThrow);
        if (phase_ == Phase::closed) break;
        if (std::chrono::steady_clock::now() >= deadline())
            close_on_strand(phase_ == Phase::login ? "login timeout" : "idle timeout");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Receiving

awaitable<void> Connection::read_loop(std::shared_ptr<Connection> /*keeps this alive*/) {
    const char* end = "connection closed by peer";
    while (phase_ == Phase::login || phase_ == Phase::full_feature) {
        while (control_queued_ + waiters_.size() >= kControlLimit && phase_ != Phase::closed) {
            reader_waiting_ = true;
            reader_wake_.expires_at(std::chrono::steady_clock::time_point::max());
            co_await reader_wake_.async_wait(kNoThrow);
            reader_waiting_ = false;
        }
        auto [ec, n] = co_await asio::async_read(socket_, asio::buffer(rx_bhs_), kNoThrow);
        if (ec) break;
        last_activity_ = std::chrono::steady_clock::now();
        const CommonHeader common = parse_common(rx_bhs_);
        const std::size_t ahs_size = std::size_t{common.total_ahs_words} * 4;
        if (ahs_size > 0) {
            std::tie(ec, n) =
                co_await asio::async_read(socket_, asio::buffer(rx_ahs_.data(), ahs_size), kNoThrow);
            if (ec) break;
        }
        if (header_digest_) {
            std::array<std::uint8_t, 4> digest{};
            std::tie(ec, n) = co_await asio::async_read(socket_, asio::buffer(digest), kNoThrow);
            if (ec) break;
            const std::uint32_t crc =
                crc32c(rx_ahs_.data(), ahs_size, crc32c(rx_bhs_.data(), rx_bhs_.size()));
            if (crc != load_le<std::uint32_t>(digest.data())) {
                end = "header digest error";  // the PDU boundaries can no longer be trusted
                break;
            }
        }
        const std::uint32_t length = common.data_segment_length;
        if (length > max_receive_) {
            // Reject exists only in full feature phase; a login simply ends.
            if (phase_ == Phase::full_feature) queue_reject(RejectReason::protocol_error, rx_bhs_);
            end = "data segment longer than MaxRecvDataSegmentLength";
            break;
        }
        const ParseResult parsed = parse_request(rx_bhs_, std::span(rx_ahs_.data(), ahs_size));
        if (phase_ == Phase::login) {
            const auto* login = std::get_if<LoginRequest>(&parsed.request);
            if (!login || parsed.error != ParseError::none) {
                end = "protocol error during login";
                break;
            }
            if (!co_await on_login(*login, length)) {
                end = nullptr;
                break;
            }
            continue;
        }
        bool keep = true;
        if (parsed.error != ParseError::none) {
            keep = co_await discard_segment(length);
            queue_reject(parsed.error == ParseError::target_opcode ? RejectReason::protocol_error
                                                                   : RejectReason::invalid_pdu_field,
                         rx_bhs_);
        } else if (const auto* command = std::get_if<ScsiCommand>(&parsed.request)) {
            keep = co_await on_command(*command, length);
        } else if (const auto* data = std::get_if<DataOut>(&parsed.request)) {
            keep = co_await on_data_out(*data, length);
        } else if (const auto* nop = std::get_if<NopOut>(&parsed.request)) {
            keep = co_await on_nop_out(*nop, length);
        } else if (const auto* text = std::get_if<TextRequest>(&parsed.request)) {
            keep = co_await on_text(*text, length);
        } else if (const auto* tmf = std::get_if<TaskManagementRequest>(&parsed.request)) {
            on_task_management(*tmf);
        } else if (const auto* logout = std::get_if<LogoutRequest>(&parsed.request)) {
            on_logout(*logout);
            keep = phase_ == Phase::full_feature;
        } else if (std::holds_alternative<LoginRequest>(parsed.request)) {
            keep = co_await discard_segment(length);
            queue_reject(RejectReason::protocol_error, rx_bhs_);
        } else if (std::holds_alternative<SnackRequest>(parsed.request)) {
            keep = co_await discard_segment(length);
            queue_reject(RejectReason::protocol_error, rx_bhs_);  // no SNACK at ErrorRecoveryLevel 0
        } else {
            keep = co_await discard_segment(length);
            queue_reject(RejectReason::command_not_supported, rx_bhs_);
        }
        if (!keep) {
            if (digest_error_) {
                queue_reject(RejectReason::data_digest_error, rx_bhs_);
                end = "data digest error";
            } else if (phase_ != Phase::full_feature) {
                end = nullptr;  // already draining or closed with its own reason
            } else {
                end = "protocol error";
            }
            break;
        }
    }
    if (end) {
        if (phase_ == Phase::full_feature) {
            begin_drain(end);
        } else if (phase_ == Phase::login) {
            close_on_strand(end);
        }
    }
    if (phase_ == Phase::draining) maybe_finish_drain();
}

awaitable<bool> Connection::read_segment(std::span<std::byte> destination) {
    const auto length = static_cast<std::uint32_t>(destination.size());
    if (length == 0) co_return true;
    const std::size_t pad = padded_length(length) - length;
    std::array<std::uint8_t, 8> trailer{};
    const std::size_t trailer_size = pad + (data_digest_ ? 4 : 0);
    const std::array<asio::mutable_buffer, 2> buffers{asio::buffer(destination.data(), length),
                                                      asio::buffer(trailer.data(), trailer_size)};
    auto [ec, n] = co_await asio::async_read(socket_, buffers, kNoThrow);
    if (ec) co_return false;
    if (data_digest_) {
        const std::uint32_t crc = crc32c(trailer.data(), pad, crc32c(destination));
        if (crc != load_le<std::uint32_t>(trailer.data() + pad)) {
            digest_error_ = true;
            co_return false;
        }
    }
    co_return true;
}

awaitable<bool> Connection::read_segment_to_buffer(std::uint32_t length) {
    rx_data_.resize(length);
    co_return co_await read_segment(std::as_writable_bytes(std::span(rx_data_)));
}

awaitable<bool> Connection::discard_segment(std::uint32_t length) {
    if (length == 0) co_return true;
    const bool digest = data_digest_;
    data_digest_ = false;  // a discarded segment's digest is read as padding and not checked
    const std::uint32_t total = padded_length(length) + (digest ? 4 : 0);
    rx_data_.resize(std::min<std::uint32_t>(total, 65536));
    std::uint32_t done = 0;
    bool ok = true;
    while (done < total && ok) {
        const std::uint32_t chunk =
            std::min<std::uint32_t>(total - done, static_cast<std::uint32_t>(rx_data_.size()));
        auto [ec, n] = co_await asio::async_read(socket_, asio::buffer(rx_data_.data(), chunk), kNoThrow);
        ok = !ec;
        done += chunk;
    }
    data_digest_ = digest;
    co_return ok;
}

// ---------------------------------------------------------------------------------------------------------------
// Login

awaitable<bool> Connection::on_login(const LoginRequest& request, std::uint32_t length) {
    if (!co_await read_segment_to_buffer(length)) co_return false;
    if (!login_started_) login_stat_sn_ = request.exp_stat_sn;  // the first StatSN is ours to choose
    login_started_ = true;
    const LoginReply reply = login_->handle(request, rx_data_);
    Outgoing* out = push(Outgoing::Kind::control, Outgoing::Numbers::as_built);
    if (!out) co_return false;
    LoginResponse header = reply.header;
    header.data_segment_length = static_cast<std::uint32_t>(reply.text.size());
    SequenceNumbers sn;
    sn.stat_sn = login_stat_sn_++;
    sn.exp_cmd_sn = request.cmd_sn;
    sn.max_cmd_sn = request.cmd_sn + context_.options.queue_depth - 1;
    build(out->bhs, header, sn);
    out->data.assign(reply.text.begin(), reply.text.end());
    out->starts_digests = login_->state() == LoginMachine::State::complete;
    wake_writer();

    switch (login_->state()) {
        case LoginMachine::State::in_progress:
            co_return true;
        case LoginMachine::State::failed:
            log::warn("iSCSI login failed: initiator=", login_->initiator_name(), " isid=0x",
                      hex_isid(request.isid),
                      " target=", login_->target() ? login_->target()->iqn : std::string("-"),
                      " peer=", peer_, " status=", int{reply.header.status_class}, "/",
                      int{reply.header.status_detail}, ": ", login_->failure_reason());
            begin_drain("login failed");
            co_return false;
        case LoginMachine::State::complete:
            enter_full_feature(request);
            co_return true;
    }
    co_return false;
}

void Connection::enter_full_feature(const LoginRequest& request) {
    const SessionParams params = login_->params();
    scsi::Nexus nexus;
    nexus.id = context_.next_nexus_id.fetch_add(1, std::memory_order_relaxed);
    nexus.initiator_name = login_->initiator_name();
    nexus.isid = login_->isid();
    nexus.initiator_port = nexus.initiator_name + ",i,0x" + hex_isid(nexus.isid);
    nexus.relative_target_port = context_.options.portal_group_tag;
    session_ = std::make_unique<Session>(login_->target(), std::move(nexus), params,
                                         context_.options.queue_depth, request.cmd_sn, login_stat_sn_);
    header_digest_ = params.header_digest;
    data_digest_ = params.data_digest;
    max_receive_ = params.target_max_recv_data_segment_length;
    initiator_name_ = login_->initiator_name();
    chap_user_ = login_->authenticated_user();
    isid_ = login_->isid();
    target_iqn_ = login_->target() ? login_->target()->iqn : std::string();
    const bool discovery = login_->discovery();
    const std::uint16_t tsih = login_->tsih();
    login_.reset();
    phase_ = Phase::full_feature;
    full_feature_.store(true, std::memory_order_release);

    if (!discovery) {
        // Same initiator and ISID: the initiator lost the old connection; the new login replaces it.
        for (const auto& old : context_.registry.find_session(initiator_name_, isid_, target_iqn_)) {
            if (old.get() != this) old->close("session reinstated by a new login");
        }
    }
    log::info("iSCSI login: initiator=", initiator_name_, " isid=0x", hex_isid(isid_),
              " target=", discovery ? std::string("(discovery)") : target_iqn_, " peer=", peer_,
              " tsih=", tsih, " digests=", header_digest_ ? "CRC32C" : "None", "/",
              data_digest_ ? "CRC32C" : "None");
}

// ---------------------------------------------------------------------------------------------------------------
// SCSI commands and data

awaitable<bool> Connection::on_command(const ScsiCommand& command, std::uint32_t length) {
    if (session_->discovery()) {
        if (!co_await discard_segment(length)) co_return false;
        queue_reject(RejectReason::protocol_error, rx_bhs_);
        co_return true;
    }
    const SessionParams& params = session_->params();
    if (length > 0 && (!command.write || !params.immediate_data || length > params.first_burst_length ||
                       length > command.expected_data_transfer_length)) {
        queue_reject(RejectReason::protocol_error, rx_bhs_);
        co_return false;
    }
    if (!session_->admit(command.cmd_sn, command.immediate)) co_return co_await discard_segment(length);
    if (session_->find(command.initiator_task_tag)) {
        queue_reject(RejectReason::task_in_progress, rx_bhs_);
        co_return co_await discard_segment(length);
    }
    if (command.expected_data_transfer_length > kMaxTransferLength) {
        queue_reject(RejectReason::invalid_pdu_field, rx_bhs_);
        co_return co_await discard_segment(length);
    }
    TaskSlot* slot = session_->allocate(command.immediate, command.initiator_task_tag);
    if (!slot) {
        queue_reject(RejectReason::immediate_command_reject, rx_bhs_);
        co_return co_await discard_segment(length);
    }
    scsi::Task& task = slot->task;
    std::copy(command.cdb.begin(), command.cdb.end(), task.cdb_bytes.begin());
    const std::size_t extended = std::min(command.extended_cdb.size(), scsi::Task::kMaxCdb - 16);
    std::copy_n(command.extended_cdb.begin(), extended, task.cdb_bytes.begin() + 16);
    task.cdb_length = 16 + extended;
    task.lun = decode_lun(command.lun);
    task.expected_length = command.expected_data_transfer_length;
    task.read_flag = command.read;
    task.write_flag = command.write;
    task.attribute = command.attribute <= 4 ? static_cast<scsi::TaskAttribute>(command.attribute)
                                            : scsi::TaskAttribute::simple;
    slot->lun_field = command.lun;

    if (!command.write) {
        execute(*slot);
        co_return true;
    }
    const std::span<std::byte> buffer = task.data_out_buffer(task.expected_length);
    if (!co_await read_segment(buffer.first(length))) co_return false;
    bytes_written_.fetch_add(length, std::memory_order_relaxed);
    slot->write.start(task.expected_length, length, command.final_bit,
                      WriteParams{params.initial_r2t, params.first_burst_length, params.max_burst_length,
                                  params.max_outstanding_r2t});
    if (slot->write.complete()) {
        task.data_out_length = slot->write.received();
        execute(*slot);
    } else {
        send_r2ts(*slot);
    }
    co_return true;
}

awaitable<bool> Connection::on_data_out(const DataOut& data, std::uint32_t length) {
    TaskSlot* slot = session_->discovery() ? nullptr : session_->find(data.initiator_task_tag);
    // Data for a task we do not know (aborted, or its command ignored as outside the window) is dropped.
    if (!slot || slot->state != TaskSlot::State::receiving) co_return co_await discard_segment(length);
    std::uint32_t r2t_slot = WriteTransfer::kUnsolicited;
    if (data.target_transfer_tag != kReservedTag) {
        if ((data.target_transfer_tag >> 4) != slot->index) {
            queue_reject(RejectReason::invalid_pdu_field, rx_bhs_);
            co_return false;
        }
        r2t_slot = data.target_transfer_tag & 0x0f;
    }
    if (slot->write.accept(r2t_slot, data.buffer_offset, length, data.final_bit, data.data_sn) !=
        WriteTransfer::Result::accepted) {
        queue_reject(RejectReason::protocol_error, rx_bhs_);
        co_return false;
    }
    // accept() guaranteed offset + length <= expected_length, the size of the buffer.
    const std::span<std::byte> buffer = slot->task.data_out_buffer(slot->task.expected_length);
    if (!co_await read_segment(buffer.subspan(data.buffer_offset, length))) co_return false;
    bytes_written_.fetch_add(length, std::memory_order_relaxed);
    if (slot->state != TaskSlot::State::receiving) co_return true;  // aborted while we were reading
    if (slot->write.complete()) {
        slot->task.data_out_length = slot->write.received();
        execute(*slot);
    } else if (data.final_bit) {
        send_r2ts(*slot);
    }
    co_return true;
}

void Connection::send_r2ts(TaskSlot& slot) {
    while (auto r2t = slot.write.next_r2t()) {
        Outgoing* out = push(Outgoing::Kind::control, Outgoing::Numbers::current);
        if (!out) return;
        ReadyToTransfer pdu;
        pdu.lun = slot.lun_field;
        pdu.initiator_task_tag = slot.initiator_task_tag;
        pdu.target_transfer_tag = (std::uint32_t{slot.index} << 4) | r2t->slot;
        pdu.r2t_sn = r2t->r2t_sn;
        pdu.buffer_offset = r2t->offset;
        pdu.desired_length = r2t->length;
        build(out->bhs, pdu, {});
        out->data.clear();
    }
    wake_writer();
}

void Connection::execute(TaskSlot& slot) {
    slot.state = TaskSlot::State::executing;
    scsi::TargetDevice& device = session_->device();
    if (device.runs_inline(slot.task)) {
        device.execute(slot.task);
        on_executed(slot);
        return;
    }
    // A read of cached data completes here without blocking; only what must wait goes to the disk pool.
    if (device.try_execute_nowait(slot.task)) {
        on_executed(slot);
        return;
    }
    ++executing_;
    auto work = asio::prefer(strand_, asio::execution::outstanding_work.tracked);
    asio::post(context_.disk_pool, [self = shared_from_this(), &slot, work]() {
        if (!slot.aborted.load(std::memory_order_acquire)) self->session_->device().execute(slot.task);
        asio::post(work, [self, &slot] {
            --self->executing_;
            self->on_executed(slot);
        });
    });
}

void Connection::on_executed(TaskSlot& slot) {
    if (phase_ == Phase::closed || slot.aborted.load(std::memory_order_relaxed)) {
        session_->release(slot);
        task_finished(slot.index);
        if (phase_ == Phase::draining) maybe_finish_drain();
        return;
    }
    commands_.fetch_add(1, std::memory_order_relaxed);
    slot.state = TaskSlot::State::responding;
    Outgoing* out = push(Outgoing::Kind::task, Outgoing::Numbers::advance);
    if (!out) return;
    out->slot = &slot;
    wake_writer();
}

// ---------------------------------------------------------------------------------------------------------------
// NOP, Text, Logout

awaitable<bool> Connection::on_nop_out(const NopOut& nop, std::uint32_t length) {
    if (!session_->admit(nop.cmd_sn, nop.immediate)) co_return co_await discard_segment(length);
    if (nop.initiator_task_tag == kReservedTag)
        co_return co_await discard_segment(length);  // answer to a ping
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
    for (const KeyValue& kv : parsed.pairs) {
        if (kv.key != "SendTargets") {
            append_pair(text_reply_, kv.key, "NotUnderstood");
            continue;
        }
        // "All" lists everything this initiator may log in to (discovery only); a name lists that target;
        // empty means the session's own target.
        for (const auto& node : context_.targets->all()) {
            const bool wanted = kv.value == "All"  ? (session_->discovery() || node->iqn == target_iqn_)
                                : kv.value.empty() ? node->iqn == target_iqn_
                                                   : node->iqn == kv.value;
            if (!wanted || !node->allows(initiator_name_)) continue;
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

// ---------------------------------------------------------------------------------------------------------------
// Sending

Connection::Outgoing* Connection::push(Outgoing::Kind kind, Outgoing::Numbers numbers) {
    if (phase_ == Phase::closed) return nullptr;
    if (ring_count_ == ring_capacity_) {
        close_on_strand("send queue overflow");
        return nullptr;
    }
    Outgoing& out = ring_[(ring_head_ + ring_count_) % ring_capacity_];
    ++ring_count_;
    out.kind = kind;
    out.numbers = numbers;
    out.slot = nullptr;
    out.starts_digests = false;
    if (kind == Outgoing::Kind::control) ++control_queued_;
    return &out;
}

void Connection::queue_reject(RejectReason reason, const Bhs& rejected) {
    Outgoing* out = push(Outgoing::Kind::control, Outgoing::Numbers::advance);
    if (!out) return;
    build(out->bhs, RejectPdu{reason, kBhsSize}, {});
    out->data.assign(rejected.begin(), rejected.end());
    wake_writer();
}

void Connection::wake_writer() {
    writer_wake_.cancel();
}

awaitable<void> Connection::write_loop(std::shared_ptr<Connection> /*keeps this alive*/) {
    while (phase_ != Phase::closed) {
        if (ring_count_ == 0) {
            if (phase_ == Phase::draining && executing_ == 0 && waiters_.empty()) {
                close_on_strand(end_reason_);
                break;
            }
            writer_wake_.expires_at(std::chrono::steady_clock::time_point::max());
            co_await writer_wake_.async_wait(kNoThrow);
            continue;
        }
        Outgoing& entry = ring_[ring_head_];
        const bool ok = entry.kind == Outgoing::Kind::task ? co_await send_task(*entry.slot)
                                                           : co_await send_control(entry);
        if (phase_ == Phase::closed) break;
        if (!ok) {
            close_on_strand("send failed");
            break;
        }
        if (entry.starts_digests) {
            tx_header_digest_ = session_->params().header_digest;
            tx_data_digest_ = session_->params().data_digest;
        }
        if (entry.kind == Outgoing::Kind::control) {
            --control_queued_;
        } else {
            session_->release(*entry.slot);
        }
        ring_head_ = (ring_head_ + 1) % ring_capacity_;
        --ring_count_;
        if (reader_waiting_) reader_wake_.cancel();
    }
}

awaitable<bool> Connection::send_control(Outgoing& entry) {
    if (entry.numbers != Outgoing::Numbers::as_built) {
        SequenceNumbers sn = session_->numbers(entry.numbers == Outgoing::Numbers::advance);
        set_sequence_numbers(entry.bhs, sn);
    }
    PduScratch& scratch = tx_scratch_.front();
    std::copy(entry.bhs.begin(), entry.bhs.end(), scratch.header.begin());
    std::size_t header_size = kBhsSize;
    if (tx_header_digest_) {
        put_digest(scratch.header.data() + kBhsSize, crc32c(entry.bhs.data(), kBhsSize));
        header_size += 4;
    }
    const auto length = static_cast<std::uint32_t>(entry.data.size());
    const std::size_t pad = padded_length(length) - length;
    std::size_t trailer = pad;
    if (tx_data_digest_ && length > 0) {
        const std::uint32_t crc = crc32c(kPadding.data(), pad, crc32c(entry.data.data(), length));
        std::fill_n(scratch.trailer.begin(), pad, 0);
        put_digest(scratch.trailer.data() + pad, crc);
        trailer += 4;
    } else {
        std::fill_n(scratch.trailer.begin(), pad, 0);
    }
    const std::array<asio::const_buffer, 3> buffers{asio::buffer(scratch.header.data(), header_size),
                                                    asio::buffer(entry.data),
                                                    asio::buffer(scratch.trailer.data(), trailer)};
    auto [ec, n] = co_await asio::async_write(socket_, buffers, kNoThrow);
    co_return !ec;
}

awaitable<bool> Connection::send_task(TaskSlot& slot) {
    const scsi::Task& task = slot.task;
    const SessionParams& params = session_->params();
    const std::uint32_t expected = task.expected_length;
    std::uint32_t sent_length = 0;
    bool overflow = false;
    bool underflow = false;
    std::uint32_t residual = 0;
    if (task.read_flag) {
        const std::uint32_t produced = task.data_in_length;
        sent_length = std::min(produced, expected);
        overflow = produced > expected;
        underflow = produced < expected;
        residual = overflow ? produced - expected : expected - produced;
    } else if (task.write_flag && task.cdb_data_out_length) {
        const std::uint32_t wanted = *task.cdb_data_out_length;
        overflow = wanted > expected;
        underflow = wanted < expected;
        residual = overflow ? wanted - expected : expected - wanted;
    } else if (task.write_flag && task.data_out_length < expected) {
        underflow = true;
        residual = expected - task.data_out_length;
    }
    const bool has_sense = task.sense_length > 0;
    // Status rides in the last Data-In when there is no sense data to send (RFC 7143 §11.7.4).
    const bool status_in_data = sent_length > 0 && !has_sense;
    const auto data = task.data_in_view().first(sent_length);

    DataInSplitter splitter(sent_length, params.initiator_max_recv_data_segment_length,
                            params.max_burst_length);
    std::uint32_t data_sn = 0;
    while (!splitter.done()) {
        tx_buffers_.clear();
        for (std::size_t i = 0; i < kBatchPdus && !splitter.done(); ++i) {
            const DataInPdu next = splitter.next();
            PduScratch& scratch = tx_scratch_[i];
            DataIn pdu;
            pdu.final_bit = next.final_bit;
            pdu.lun = slot.lun_field;
            pdu.initiator_task_tag = slot.initiator_task_tag;
            pdu.data_sn = next.data_sn;
            pdu.buffer_offset = next.offset;
            pdu.data_segment_length = next.length;
            pdu.status_present = next.last && status_in_data;
            if (pdu.status_present) {
                pdu.status = static_cast<std::uint8_t>(task.status);
                pdu.overflow = overflow;
                pdu.underflow = underflow;
                pdu.residual_count = residual;
            }
            Bhs bhs;
            build(bhs, pdu, session_->numbers(pdu.status_present));
            std::copy(bhs.begin(), bhs.end(), scratch.header.begin());
            std::size_t header_size = kBhsSize;
            if (tx_header_digest_) {
                put_digest(scratch.header.data() + kBhsSize, crc32c(bhs.data(), kBhsSize));
                header_size += 4;
            }
            const auto payload = data.subspan(next.offset, next.length);
            const std::size_t pad = padded_length(next.length) - next.length;
            std::fill_n(scratch.trailer.begin(), pad, 0);
            std::size_t trailer = pad;
            if (tx_data_digest_) {
                put_digest(scratch.trailer.data() + pad, crc32c(kPadding.data(), pad, crc32c(payload)));
                trailer += 4;
            }
            tx_buffers_.push_back(asio::buffer(scratch.header.data(), header_size));
            tx_buffers_.push_back(asio::buffer(payload.data(), payload.size()));
            if (trailer > 0) tx_buffers_.push_back(asio::buffer(scratch.trailer.data(), trailer));
            data_sn = next.data_sn + 1;
        }
        auto [ec, n] = co_await asio::async_write(socket_, tx_buffers_, kNoThrow);
        if (ec) co_return false;
    }
    bytes_read_.fetch_add(sent_length, std::memory_order_relaxed);
    if (status_in_data) co_return true;

    // A separate SCSI Response, with sense data when there is any.
    const std::size_t sense_length = std::min(task.sense_length, task.sense.size());
    std::uint32_t segment = 0;
    if (has_sense) {
        store_be(slot.sense_segment.data(), static_cast<std::uint16_t>(sense_length));
        std::copy_n(task.sense.begin(), sense_length, slot.sense_segment.begin() + 2);
        segment = static_cast<std::uint32_t>(2 + sense_length);
    }
    ScsiResponse response;
    response.initiator_task_tag = slot.initiator_task_tag;
    response.status = static_cast<std::uint8_t>(task.status);
    response.overflow = overflow;
    response.underflow = underflow;
    response.residual_count = residual;
    response.exp_data_sn = data_sn;
    response.data_segment_length = segment;
    Outgoing& entry = ring_[ring_head_];
    build(entry.bhs, response, session_->numbers(true));
    entry.data.assign(slot.sense_segment.begin(), slot.sense_segment.begin() + segment);
    entry.numbers = Outgoing::Numbers::as_built;
    co_return co_await send_control(entry);
}

// ---------------------------------------------------------------------------------------------------------------
// Ending

void Connection::begin_drain(const char* reason) {
    if (phase_ == Phase::closed) return;
    if (end_reason_.empty()) end_reason_ = reason;
    phase_ = Phase::draining;
    boost::system::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_receive, ec);  // ends the read loop
    if (session_) {
        // Writes still waiting for Data-Out will never get it.
        for (std::size_t i = 0; i < session_->pool_size(); ++i) {
            TaskSlot& slot = *session_->slot(i);
            if (slot.state == TaskSlot::State::receiving) session_->release(slot);
        }
    }
    maybe_finish_drain();
}

void Connection::maybe_finish_drain() {
    if (phase_ == Phase::draining) wake_writer();  // the writer closes once everything is sent
}

void Connection::close_on_strand(const std::string& reason) {
    if (phase_ == Phase::closed) return;
    const bool was_session = full_feature_.load(std::memory_order_relaxed);
    phase_ = Phase::closed;
    boost::system::error_code ec;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    writer_wake_.cancel();
    reader_wake_.cancel();
    watchdog_timer_.cancel();
    context_.registry.remove(this);
    if (session_) {
        for (std::size_t i = 0; i < session_->pool_size(); ++i) {
            TaskSlot& slot = *session_->slot(i);
            if (slot.state == TaskSlot::State::executing) {
                slot.aborted.store(true, std::memory_order_release);
            } else {
                session_->release(slot);
            }
        }
    }
    const std::string why =
        end_reason_.empty() || end_reason_ == reason ? reason : end_reason_ + ", " + reason;
    if (was_session) {
        log::info("iSCSI logout: initiator=", initiator_name_, " isid=0x", hex_isid(isid_),
                  " target=", target_iqn_.empty() ? std::string("(discovery)") : target_iqn_, " peer=", peer_,
                  " reason=", why);
    } else {
        // Scanners and abandoned sockets are routine; a login that got going and then stalled is worth a
        // warning.
        if (login_started_ && login_ && login_->state() == LoginMachine::State::in_progress) {
            log::warn("iSCSI login failed: peer=", peer_, ": ", why);
        } else {
            log::debug("iSCSI connection from ", peer_, " closed before login: ", why);
        }
    }
}

}  // namespace bootherd::iscsi
