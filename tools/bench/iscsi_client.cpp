#include "iscsi_client.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <stdexcept>

extern "C" {
#include <iscsi/scsi-lowlevel.h>
}

namespace bootherd::bench {

void ErrorLog::report(const std::string& what) {
    ++count_;
    if (count_ <= 20) std::cerr << program_ << ": " << what << '\n';
    if (count_ == 21) std::cerr << program_ << ": further errors are counted, not printed\n";
}

int run_or_report(const std::string& program, const std::function<int()>& run) {
    try {
        return run();
    } catch (const std::exception& e) {
        std::cerr << program << ": " << e.what() << '\n';
        return 2;
    }
}

void raise_fd_limit(unsigned sessions, const std::string& program) {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
    const rlim_t wanted = sessions + 64;
    if (lim.rlim_cur >= wanted) return;
    lim.rlim_cur = std::min(wanted, lim.rlim_max);
    setrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur < wanted)
        std::cerr << program << ": descriptor limit " << lim.rlim_cur << " is below " << wanted << "\n";
}

AsyncSession::~AsyncSession() {
    if (ctx_ != nullptr) iscsi_destroy_context(ctx_);
}

bool AsyncSession::create_context(const std::string& initiator, const std::string& target,
                                  std::uint32_t isid) {
    phase_ = Phase::connecting;
    ctx_ = iscsi_create_context(initiator.c_str());
    if (ctx_ == nullptr) return false;
    iscsi_set_isid_random(ctx_, isid, 0);
    iscsi_set_targetname(ctx_, target.c_str());
    iscsi_set_session_type(ctx_, ISCSI_SESSION_NORMAL);
    iscsi_set_noautoreconnect(ctx_, 1);  // a dropped session must show as an error, not heal silently
    return true;
}

void AsyncSession::connect(const std::string& portal, int lun) {
    lun_ = lun;
    if (iscsi_full_connect_async(ctx_, portal.c_str(), lun, on_connected, this) != 0)
        fail("connect", iscsi_get_error(ctx_));
}

std::string AsyncSession::redirected_to() const {
    const char* address = ctx_ != nullptr ? iscsi_get_target_address(ctx_) : nullptr;
    return address != nullptr ? address : "";
}

void AsyncSession::service(int revents) {
    if (live() && iscsi_service(ctx_, revents) < 0) fail("connection", iscsi_get_error(ctx_));
}

void AsyncSession::log_out() {
    if (phase_ != Phase::open) return;
    phase_ = Phase::logging_out;
    if (iscsi_logout_async(ctx_, on_logged_out, this) != 0) fail("logout", iscsi_get_error(ctx_));
}

void AsyncSession::fail(const char* stage, const char* why) {
    if (phase_ == Phase::failed || phase_ == Phase::closed) return;
    errors_.report(label_ + ": " + stage + " failed: " + (why ? why : "?"));
    phase_ = Phase::failed;
    ended();
}

void AsyncSession::mark_failed() {
    if (!live()) return;
    phase_ = Phase::failed;
    ended();
}

void AsyncSession::on_connected(iscsi_context*, int status, void*, void* self_ptr) {
    auto& self = *static_cast<AsyncSession*>(self_ptr);
    if (status != SCSI_STATUS_GOOD) {
        // libiscsi calls this again with an error when an established connection later fails.
        return self.fail(self.phase_ == Phase::connecting ? "login" : "connection",
                         iscsi_get_error(self.ctx_));
    }
    if (self.phase_ != Phase::connecting) return;
    self.phase_ = Phase::sizing;
    if (iscsi_readcapacity16_task(self.ctx_, self.lun_, on_capacity, &self) == nullptr)
        self.fail("READ CAPACITY(16)", iscsi_get_error(self.ctx_));
}

void AsyncSession::on_capacity(iscsi_context*, int status, void* data, void* self_ptr) {
    auto& self = *static_cast<AsyncSession*>(self_ptr);
    auto* task = static_cast<scsi_task*>(data);
    auto* rc = status == SCSI_STATUS_GOOD ? static_cast<scsi_readcapacity16*>(scsi_datain_unmarshall(task))
                                          : nullptr;
    if (rc == nullptr) {
        self.fail("READ CAPACITY(16)", iscsi_get_error(self.ctx_));
    } else {
        self.phase_ = Phase::open;
        self.opened(rc->block_length, rc->returned_lba);
    }
    scsi_free_scsi_task(task);
}

void AsyncSession::on_logged_out(iscsi_context*, int status, void*, void* self_ptr) {
    auto& self = *static_cast<AsyncSession*>(self_ptr);
    if (status != SCSI_STATUS_GOOD) return self.fail("logout", iscsi_get_error(self.ctx_));
    self.phase_ = Phase::closed;
    self.ended();
}

void SessionPoller::watch(AsyncSession& session) {
    if (!session.live()) return;
    const int events = iscsi_which_events(session.context());
    if (events == 0) return;
    fds_.push_back({iscsi_get_fd(session.context()), static_cast<short>(events), 0});
    owners_.push_back(&session);
}

void SessionPoller::wait(int timeout_ms) {
    if (::poll(fds_.data(), fds_.size(), timeout_ms) < 0 && errno != EINTR)
        throw std::runtime_error("poll failed");
    for (std::size_t i = 0; i < fds_.size(); ++i)
        if (fds_[i].revents != 0) owners_[i]->service(fds_[i].revents);
}

}  // namespace bootherd::bench
