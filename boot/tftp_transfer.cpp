#include "boot/tftp_transfer.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>

namespace bootherd::boot {
namespace {

// Option values are decimal numbers; anything else (or absurdly long) is treated as not requested.
std::optional<std::uint64_t> parse_number(const std::string& text) {
    if (text.empty() || text.size() > 12) return std::nullopt;
    std::uint64_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return value;
}

}  // namespace

TftpSettings negotiate_tftp_options(const TftpOptionList& requested, std::uint64_t file_size,
                                    const TftpLimits& limits) {
    TftpSettings settings;
    settings.timeout = limits.default_timeout;
    for (const auto& [name, text] : requested) {
        const auto value = parse_number(text);
        if (name == "tsize") {
            settings.oack.emplace_back(name, std::to_string(file_size));
        } else if (!value) {
            continue;
        } else if (name == "blksize" && *value >= 8) {
            settings.blksize =
                static_cast<std::uint16_t>(std::min<std::uint64_t>(*value, limits.max_blksize));
            settings.oack.emplace_back(name, std::to_string(settings.blksize));
        } else if (name == "timeout" && *value >= 1 && *value <= 255) {
            settings.timeout = std::chrono::seconds(*value);
            settings.oack.emplace_back(name, std::to_string(*value));
        } else if (name == "windowsize" && *value >= 1 && *value <= 65535) {
            settings.windowsize =
                static_cast<std::uint16_t>(std::min<std::uint64_t>(*value, limits.max_windowsize));
            settings.oack.emplace_back(name, std::to_string(settings.windowsize));
        }
    }
    return settings;
}

TftpTransfer::TftpTransfer(TftpSettings settings, TftpContent& content, const TftpLimits& limits)
    : settings_(std::move(settings)),
      content_(content),
      limits_(limits),
      total_blocks_(content.size() / settings_.blksize + 1),
      buffer_(settings_.blksize) {
    if (settings_.blksize < 8 || settings_.windowsize < 1) throw std::invalid_argument("bad TFTP settings");
}

TftpTransfer::Packets TftpTransfer::start(Clock::time_point now) {
    if (settings_.oack.empty()) return send_window(now);
    oack_pending_ = true;
    deadline_ = now + timeout();
    return {serialize_tftp_packet(TftpOack{settings_.oack})};
}

TftpTransfer::Packets TftpTransfer::on_packet(const TftpPacket& packet, Clock::time_point now) {
    if (status_ != Status::running) return {};
    if (const auto* ack = std::get_if<TftpAck>(&packet)) return on_ack(ack->block, now);
    if (std::holds_alternative<TftpError>(packet)) {
        status_ = Status::aborted_by_client;
        return {};
    }
    return fail("unexpected packet type during a read transfer", TftpErrorCode::illegal_operation);
}

TftpTransfer::Packets TftpTransfer::on_timeout(Clock::time_point now) {
    if (status_ != Status::running) return {};
    if (retries_ >= (answered_ ? limits_.max_retries : limits_.unanswered_retries)) {
        status_ = Status::failed;
        failure_ = answered_ ? "client stopped acknowledging (retries exhausted)" : "client never answered";
        return {};
    }
    ++retries_;
    if (oack_pending_) {
        deadline_ = now + timeout();
        return {serialize_tftp_packet(TftpOack{settings_.oack})};
    }
    return send_window(now);
}

TftpTransfer::Packets TftpTransfer::on_ack(std::uint16_t block, Clock::time_point now) {
    if (oack_pending_) {
        if (block != 0) return {};
        oack_pending_ = false;
        answered_ = true;
        retries_ = 0;
        return send_window(now);
    }
    // How far past the last acknowledged block this ACK reaches, modulo the 16-bit wire counter.
    const std::uint64_t last_acked = window_base_ - 1;
    const std::uint16_t distance = static_cast<std::uint16_t>(block - static_cast<std::uint16_t>(last_acked));
    if (distance == 0 || distance > next_block_ - window_base_) return {};  // duplicate or stale: ignore
    window_base_ = last_acked + distance + 1;
    answered_ = true;
    retries_ = 0;
    if (window_base_ > total_blocks_) {
        status_ = Status::complete;
        return {};
    }
    // A partial acknowledgement (RFC 7440: the client lost a block) restarts the window after it.
    return send_window(now);
}

TftpTransfer::Packets TftpTransfer::send_window(Clock::time_point now) {
    Packets packets;
    const std::uint64_t window = answered_ ? settings_.windowsize : 1;
    const std::uint64_t end = std::min<std::uint64_t>(window_base_ + window, total_blocks_ + 1);
    try {
        for (std::uint64_t block = window_base_; block < end; ++block) {
            const std::uint64_t offset = (block - 1) * settings_.blksize;
            const std::size_t length = offset < content_.size() ? content_.read(offset, buffer_) : 0;
            packets.push_back(serialize_tftp_data(static_cast<std::uint16_t>(block),
                                                  std::span<const std::uint8_t>(buffer_.data(), length)));
            bytes_sent_ += length;
        }
    } catch (const std::runtime_error& e) {
        return fail(std::string("read error: ") + e.what(), TftpErrorCode::not_defined);
    }
    next_block_ = end;
    deadline_ = now + timeout();
    return packets;
}

std::chrono::seconds TftpTransfer::timeout() const {
    return answered_ ? settings_.timeout : std::min(settings_.timeout, limits_.unanswered_timeout);
}

TftpTransfer::Packets TftpTransfer::fail(std::string reason, TftpErrorCode code) {
    status_ = Status::failed;
    failure_ = std::move(reason);
    return {serialize_tftp_packet(TftpError{code, failure_})};
}

}  // namespace bootherd::boot
