// Connection: construction, the receive loop, login and the end of a connection. Commands, control PDUs and
// sending live in connection_commands.cpp, connection_control.cpp and connection_send.cpp.
#include "target/iscsi/connection.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <cstring>

#include "common/crc32c.hpp"
#include "common/log.hpp"
#include "target/iscsi/connection_detail.hpp"
#include "target/iscsi/own_portal.hpp"
#include "target/iscsi/server_context.hpp"
#include "target/iscsi/text.hpp"

namespace bootherd::iscsi {
namespace asio = boost::asio;
using asio::awaitable;
using namespace connection_detail;

namespace {

// The server's login router, refusing redirects to this server's own portals; empty without a router.
LoginRouter guarded_router(const ServerContext& context, const asio::ip::tcp::endpoint& arrival) {
    if (!context.options.login_router) return {};
    return [&ctx = context, arrival](std::string_view initiator,
                                     std::string_view target) -> std::optional<Redirect> {
        std::optional<Redirect> to;
        try {
            to = ctx.options.login_router(initiator, target);
        } catch (const std::exception& e) {
            log::error("iSCSI login router failed for initiator ", initiator, ": ", e.what());
            return std::nullopt;
        }
        if (to && is_own_portal(*to, arrival, ctx.portals)) {
            log::warn("iSCSI login router sent initiator ", initiator, " (target ", target, ") to ",
                      target_address(*to), ", a portal of this server: serving the login here");
            return std::nullopt;
        }
        return to;
    };
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
      tx_scratch_(kBatchPdus + 1),
      lane_(context.options.queue_depth + Session::kImmediateReserve, context.options.disk_tasks_per_session),
      lane_finished_(lane_.capacity()) {
    boost::system::error_code ec;
    const auto remote = socket_.remote_endpoint(ec);
    peer_ = ec ? "?" : format_endpoint(remote);
    if (!ec) peer_address_ = unmapped(remote.address());
    const auto local = socket_.local_endpoint(ec);
    portal_ = ec ? "?" : format_endpoint(local);
    const auto arrival = ec ? asio::ip::tcp::endpoint{} : local;
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    // iPXE never answers NOP-In and abandons its connection when the OS takes over: keepalive finds dead
    // peers.
    socket_.set_option(asio::socket_base::keep_alive(true), ec);
    socket_.set_option(asio::detail::socket_option::integer<IPPROTO_TCP, TCP_KEEPIDLE>(30), ec);
    socket_.set_option(asio::detail::socket_option::integer<IPPROTO_TCP, TCP_KEEPINTVL>(10), ec);
    socket_.set_option(asio::detail::socket_option::integer<IPPROTO_TCP, TCP_KEEPCNT>(3), ec);
    tx_buffers_.reserve(tx_scratch_.size() * 4);
    login_.emplace(
        *context_.targets, context_.options.portal_group_tag,
        [&ctx = context_] { return ctx.allocate_tsih(); }, chap::make_challenge, peer_address_,
        guarded_router(context_, arrival));
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

std::chrono::steady_clock::time_point Connection::next_ping() const {
    const auto interval = context_.options.nop_in_interval;
    if (phase_ != Phase::full_feature || interval.count() <= 0 || session_->discovery())
        return std::chrono::steady_clock::time_point::max();
    return std::max(last_activity_, last_ping_) + interval;
}

awaitable<void> Connection::watchdog(std::shared_ptr<Connection> /*keeps this alive*/) {
    while (phase_ != Phase::closed) {
        watchdog_timer_.expires_at(std::min(deadline(), next_ping()));
        co_await watchdog_timer_.async_wait(kNoThrow);
        if (phase_ == Phase::closed) break;
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline()) {
            close_on_strand(phase_ == Phase::login ? "login timeout" : "idle timeout");
        } else if (now >= next_ping()) {
            send_ping();
        }
    }
}

// A NOP-In asking for a NOP-Out (RFC 7143 §11.19): Target Transfer Tag set, Initiator Task Tag reserved,
// StatSN not advanced.
void Connection::send_ping() {
    last_ping_ = std::chrono::steady_clock::now();
    if (ping_outstanding_ && !ping_silence_logged_) {
        ping_silence_logged_ = true;  // iPXE never answers: worth one line, not one per interval
        log::info(
            "iSCSI initiator ", initiator_name_, " (", peer_,
            ") does not answer NOP-In pings; keepalive and the idle timeout will reap it if it is gone");
    }
    Outgoing* out = push(Outgoing::Kind::control, Outgoing::Numbers::current);
    if (!out) return;
    if (++ping_tag_ == kReservedTag) ping_tag_ = 0;
    NopIn pdu;
    pdu.target_transfer_tag = ping_tag_;
    build(out->bhs, pdu, {});
    out->data.clear();
    ping_outstanding_ = true;
    wake_writer();
}

// ---------------------------------------------------------------------------------------------------------------
// Receiving

awaitable<void> Connection::read_loop(std::shared_ptr<Connection> /*keeps this alive*/) {
    const char* end = "connection closed by peer";
    while (phase_ == Phase::login || phase_ == Phase::full_feature) {
        while (control_queued_ + waiters_.size() >= kControlLimit && phase_ != Phase::closed) {
            start_deferred_disk_workers();
            reader_waiting_ = true;
            reader_wake_.expires_at(std::chrono::steady_clock::time_point::max());
            co_await reader_wake_.async_wait(kNoThrow);
            reader_waiting_ = false;
        }
        if (!take_buffered(std::as_writable_bytes(std::span(rx_bhs_))) &&
            !co_await receive(std::as_writable_bytes(std::span(rx_bhs_))))
            break;
        last_activity_ = std::chrono::steady_clock::now();
        const CommonHeader common = parse_common(rx_bhs_);
        const std::size_t ahs_size = std::size_t{common.total_ahs_words} * 4;
        if (ahs_size > 0 && !co_await receive(std::as_writable_bytes(std::span(rx_ahs_.data(), ahs_size))))
            break;
        if (header_digest_) {
            std::array<std::uint8_t, 4> digest{};
            if (!co_await receive(std::as_writable_bytes(std::span(digest)))) break;
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
    start_deferred_disk_workers();
    if (end) {
        if (phase_ == Phase::full_feature) {
            begin_drain(end);
        } else if (phase_ == Phase::login) {
            close_on_strand(end);
        }
    }
    if (phase_ == Phase::draining) maybe_finish_drain();
}

bool Connection::take_buffered(std::span<std::byte> out) {
    if (out.empty()) return true;
    if (rx_end_ - rx_begin_ < out.size()) return false;
    std::memcpy(out.data(), rx_buffer_.get() + rx_begin_, out.size());
    rx_begin_ += out.size();
    return true;
}

awaitable<bool> Connection::receive(std::span<std::byte> out) {
    // What is buffered first, in order.
    const std::size_t buffered = std::min(out.size(), rx_end_ - rx_begin_);
    if (buffered > 0) {
        std::memcpy(out.data(), rx_buffer_.get() + rx_begin_, buffered);
        rx_begin_ += buffered;
        out = out.subspan(buffered);
    }
    if (out.empty()) co_return true;
    start_deferred_disk_workers();
    // Large segments (and everything during login, before the buffer exists) go straight to their place.
    if (!rx_buffer_ || out.size() >= kReceiveBuffer / 2) {
        auto [ec, n] = co_await asio::async_read(socket_, asio::buffer(out.data(), out.size()), kNoThrow);
        co_return !ec;
    }
    while (!out.empty()) {
        auto [ec, n] =
            co_await socket_.async_read_some(asio::buffer(rx_buffer_.get(), kReceiveBuffer), kNoThrow);
        if (ec) co_return false;
        rx_begin_ = 0;
        rx_end_ = n;
        const std::size_t take = std::min(out.size(), n);
        std::memcpy(out.data(), rx_buffer_.get(), take);
        rx_begin_ = take;
        out = out.subspan(take);
    }
    co_return true;
}

awaitable<bool> Connection::read_segment(std::span<std::byte> destination) {
    const auto length = static_cast<std::uint32_t>(destination.size());
    if (length == 0) co_return true;
    const std::size_t pad = padded_length(length) - length;
    std::array<std::uint8_t, 8> trailer{};
    const std::size_t trailer_size = pad + (data_digest_ ? 4 : 0);
    if (!take_buffered(destination) && !co_await receive(destination)) co_return false;
    const auto trailer_bytes = std::as_writable_bytes(std::span(trailer.data(), trailer_size));
    if (!take_buffered(trailer_bytes) && !co_await receive(trailer_bytes)) co_return false;
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
        ok = co_await receive(std::as_writable_bytes(std::span(rx_data_.data(), chunk)));
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
    // The login may look the target up (TargetDirectory::find may block): not on a network thread.
    login_busy_ = true;
    LoginReply reply =
        co_await on_disk_pool(context_.disk_pool, [&] { return login_->handle(request, rx_data_); });
    login_busy_ = false;
    if (phase_ == Phase::closed) co_return false;  // timed out or server stopping meanwhile
    SessionRegistry::SessionClaim claim;
    if (login_->state() == LoginMachine::State::complete && !login_->discovery()) {
        claim = context_.registry.claim_session(*this, login_->target()->iqn, login_->initiator_name(),
                                                login_->isid(), context_.options.max_sessions_per_target);
        if (!claim.admitted) {
            // Out of resources (03/02), not an initiator error: RFC 7143 §11.13.5 reserves 02/06 for a
            // session's connection count, and the initiator may retry once a place is free.
            reply = login_->refuse(request, login_status::out_of_resources,
                                   "target has max_sessions_per_target (" +
                                       std::to_string(context_.options.max_sessions_per_target) +
                                       ") sessions from other addresses");
        }
    }
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
            context_.stats.login_failures.fetch_add(1, std::memory_order_relaxed);
            log::warn("iSCSI login failed: initiator=", login_->initiator_name(), " isid=0x",
                      hex_isid(request.isid),
                      " target=", login_->target() ? login_->target()->iqn : std::string("-"),
                      " peer=", peer_, " status=", int{reply.header.status_class}, "/",
                      int{reply.header.status_detail}, ": ", login_->failure_reason());
            begin_drain("login failed");
            co_return false;
        case LoginMachine::State::redirected:
            context_.stats.redirects.fetch_add(1, std::memory_order_relaxed);
            log::info("iSCSI login redirected: initiator=", login_->initiator_name(),
                      " target=", login_->target_name(), " peer=", peer_,
                      " to=", target_address(*login_->redirect()));
            begin_drain("login redirected");  // the response is sent, then the connection closes
            co_return false;
        case LoginMachine::State::complete:
            enter_full_feature(request);
            // Same initiator and ISID: the initiator lost the old connection; the new login replaces it.
            for (const auto& old : claim.reinstated)
                old->close("session reinstated by a new login");
            if (claim.displaced) claim.displaced->close("replaced by a newer login from the same address");
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
    // Login PDUs were read exactly, so nothing is buffered yet: from here on, reads go through the buffer.
    rx_buffer_ = std::make_unique<std::byte[]>(kReceiveBuffer);

    if (!discovery) {
        counted_session_ = true;
        context_.stats.logins.fetch_add(1, std::memory_order_relaxed);
        context_.stats.sessions.fetch_add(1, std::memory_order_relaxed);
        raise(SessionEvent::Kind::login);
    }
    log::info("iSCSI login: initiator=", initiator_name_, " isid=0x", hex_isid(isid_),
              " target=", discovery ? std::string("(discovery)") : target_iqn_, " peer=", peer_,
              " tsih=", tsih, " digests=", header_digest_ ? "CRC32C" : "None", "/",
              data_digest_ ? "CRC32C" : "None");
}

void Connection::raise(SessionEvent::Kind kind) const {
    if (!context_.options.on_session_event) return;
    try {
        context_.options.on_session_event(SessionEvent{kind, initiator_name_, target_iqn_, peer_});
    } catch (const std::exception& e) {
        log::error("iSCSI session event handler failed: ", e.what());
    }
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
    if (counted_session_) {
        context_.stats.sessions.fetch_sub(1, std::memory_order_relaxed);
        raise(SessionEvent::Kind::logout);
    }
    if (was_session) {
        log::info("iSCSI logout: initiator=", initiator_name_, " isid=0x", hex_isid(isid_),
                  " target=", target_iqn_.empty() ? std::string("(discovery)") : target_iqn_, " peer=", peer_,
                  " reason=", why);
    } else {
        // Scanners and abandoned sockets are routine; a login that got going and then stalled is worth a
        // warning.
        if (login_started_ && login_ &&
            (login_busy_ || login_->state() == LoginMachine::State::in_progress)) {
            log::warn("iSCSI login failed: peer=", peer_, ": ", why);
        } else {
            log::debug("iSCSI connection from ", peer_, " closed before login: ", why);
        }
    }
}

}  // namespace bootherd::iscsi
