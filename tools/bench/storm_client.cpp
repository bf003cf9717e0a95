#include "storm_client.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace bootherd::bench {

std::vector<ClientIdentity> read_clients(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot read");
    std::vector<ClientIdentity> out;
    std::string line;
    for (unsigned number = 1; std::getline(in, line); ++number) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        ClientIdentity c;
        std::string extra;
        if (!(fields >> c.target >> c.initiator >> c.lun) || c.lun < 0 || c.lun > 255)
            throw std::runtime_error(path + ":" + std::to_string(number) +
                                     ": want TARGET INITIATOR LUN [USER SECRET]");
        fields >> c.chap_user >> c.chap_secret;
        if (!c.chap_user.empty() && c.chap_secret.empty())
            throw std::runtime_error(path + ":" + std::to_string(number) + ": CHAP user without a secret");
        if (fields >> extra)
            throw std::runtime_error(path + ":" + std::to_string(number) + ": too many fields");
        out.push_back(std::move(c));
    }
    return out;
}

Trace read_trace(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot read");
    Trace t;
    std::string line;
    for (unsigned number = 1; std::getline(in, line); ++number) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        std::uint64_t offset = 0, length = 0;
        std::string kind, extra;
        const auto where = path + ":" + std::to_string(number) + ": ";
        if (!(fields >> offset >> length >> kind) || (kind != "r" && kind != "w") || (fields >> extra))
            throw std::runtime_error(where + "want OFFSET LENGTH r|w");
        if (length == 0 || length > (16u << 20)) throw std::runtime_error(where + "length must be 1..16 MiB");
        if (offset > UINT64_MAX - length) throw std::runtime_error(where + "offset + length overflows");
        const bool write = kind == "w";
        t.ops.push_back({offset, static_cast<std::uint32_t>(length), write});
        t.end = std::max(t.end, offset + length);
        (write ? t.max_write : t.max_read) = std::max(write ? t.max_write : t.max_read, t.ops.back().length);
        t.bytes += length;
    }
    return t;
}

void size_buffers(Run& run, const Trace& trace) {
    run.read_sink.resize(std::max<std::size_t>({run.read_sink.size(), trace.max_read, 1}));
    const auto old = run.write_data.size();
    if (trace.max_write <= old) return;
    run.write_data.resize(trace.max_write);
    std::mt19937_64 rng{std::random_device{}()};
    std::generate(run.write_data.begin() + static_cast<std::ptrdiff_t>(old), run.write_data.end(),
                  [&] { return static_cast<unsigned char>(rng()); });
}

Client::Client(Run& run, const Trace& trace, const ClientIdentity& identity, unsigned isid_index,
               const std::string& portal, const std::string& label)
    : AsyncSession(run.errors, label),
      run_(run),
      trace_(trace),
      identity_(identity),
      isid_index_(isid_index),
      portal_(portal),
      slots_(run.queue_depth) {
    for (auto& slot : slots_)
        slot.owner = this;
}

void Client::start() {
    started_ = Clock::now();
    if (!create_context(identity_.initiator, identity_.target, 0x20000u + isid_index_))
        return fail("setup", "cannot create an iSCSI context");
    iscsi_set_header_digest(context(), ISCSI_HEADER_DIGEST_NONE);  // what iPXE ends up with
    if (!identity_.chap_user.empty() &&
        iscsi_set_initiator_username_pwd(context(), identity_.chap_user.c_str(),
                                         identity_.chap_secret.c_str()) != 0)
        return fail("setup", iscsi_get_error(context()));
    connect(portal_, identity_.lun);
}

void Client::tick(Clock::time_point now) {
    if (!holding()) return;
    if (!run_.holding) return begin_replay();
    if (now >= next_nop_ && !nop_in_flight_) {
        next_nop_ = now + from_seconds(run_.nop_interval);
        if (iscsi_nop_out_async(context(), on_nop_reply, nullptr, 0, this) != 0)
            return fail("NOP-Out", iscsi_get_error(context()));
        nop_in_flight_ = true;
    }
}

void Client::give_up(const char* why) {
    if (live()) fail(why, "gave up waiting");
}

void Client::opened(std::uint32_t block_length, std::uint64_t last_lba) {
    logged_in_ = Clock::now();
    if (!fits(block_length, last_lba))
        return fail("sizing", "the trace does not fit the LUN (capacity or block size)");
    block_length_ = block_length;
    if (!run_.holding) begin_replay();
}

bool Client::fits(std::uint32_t block_length, std::uint64_t last_lba) const {
    if (block_length == 0 || last_lba == UINT64_MAX) return false;
    const std::uint64_t capacity = (last_lba + 1) * block_length;
    if (trace_.end > capacity) return false;
    return std::all_of(trace_.ops.begin(), trace_.ops.end(), [&](const TraceOp& op) {
        return op.offset % block_length == 0 && op.length % block_length == 0;
    });
}

void Client::begin_replay() {
    replaying_ = true;
    fill_queue();
}

void Client::fill_queue() {
    while (replaying() && next_op_ < trace_.ops.size() && in_flight_ < slots_.size()) {
        if (!submit(trace_.ops[next_op_])) return;
        ++next_op_;
    }
    if (replaying() && next_op_ == trace_.ops.size() && in_flight_ == 0) log_out();
}

bool Client::submit(const TraceOp& op) {
    auto slot = std::find_if(slots_.begin(), slots_.end(), [](const Slot& s) { return !s.busy; });
    const std::uint64_t lba = op.offset / block_length_;
    const int bl = static_cast<int>(block_length_);
    scsi_task* task;
    if (op.write) {
        slot->iov = {run_.write_data.data(), op.length};
        task = iscsi_write16_iov_task(context(), identity_.lun, lba, nullptr, op.length, bl, 0, 0, 0, 0, 0,
                                      on_io_done, &*slot, &slot->iov, 1);
    } else {
        slot->iov = {run_.read_sink.data(), op.length};
        task = iscsi_read16_iov_task(context(), identity_.lun, lba, op.length, bl, 0, 0, 0, 0, 0, on_io_done,
                                     &*slot, &slot->iov, 1);
    }
    if (task == nullptr) {
        fail("queueing a command", iscsi_get_error(context()));
        return false;
    }
    slot->busy = true;
    slot->length = op.length;
    ++in_flight_;
    return true;
}

void Client::on_io_done(iscsi_context* ctx, int status, void* data, void* slot_ptr) {
    auto* slot = static_cast<Slot*>(slot_ptr);
    auto& self = *slot->owner;
    auto* task = static_cast<scsi_task*>(data);
    slot->busy = false;
    --self.in_flight_;
    if (status == SCSI_STATUS_GOOD) {
        self.run_.bytes += slot->length;
    } else {
        char what[200];
        std::snprintf(what, sizeof what, "status 0x%x, sense %s/0x%04x: %s", static_cast<unsigned>(status),
                      scsi_sense_key_str(task->sense.key), static_cast<unsigned>(task->sense.ascq),
                      iscsi_get_error(ctx));
        self.fail("a command", what);
    }
    scsi_free_scsi_task(task);
    self.fill_queue();
}

void Client::on_nop_reply(iscsi_context*, int status, void*, void* self_ptr) {
    auto& self = *static_cast<Client*>(self_ptr);
    self.nop_in_flight_ = false;
    if (status != SCSI_STATUS_GOOD) self.fail("NOP-Out", iscsi_get_error(self.context()));
}

double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty()) return 0;
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace bootherd::bench
