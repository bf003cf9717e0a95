#pragma once
// Pure sequencing of SCSI data transfers: splitting Data-In into PDUs and sequences, and soliciting Data-Out
// with R2Ts (RFC 7143 §4.2.2.3, §11.7, §11.8). No I/O here.
#include <array>
#include <cstdint>
#include <optional>

namespace bootherd::iscsi {

struct DataInPdu {
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
    std::uint32_t data_sn = 0;
    bool final_bit = false;  // last PDU of a sequence (MaxBurstLength reached) or of the transfer
    bool last = false;       // last PDU of the transfer
};

// Splits `total` bytes of Data-In into PDUs of at most max_pdu bytes (the initiator's
// MaxRecvDataSegmentLength) within sequences of at most max_burst bytes.
class DataInSplitter {
  public:
    DataInSplitter(std::uint32_t total, std::uint32_t max_pdu, std::uint32_t max_burst);
    bool done() const { return offset_ >= total_; }
    DataInPdu next();

  private:
    std::uint32_t total_;
    std::uint32_t max_pdu_;
    std::uint32_t max_burst_;
    std::uint32_t offset_ = 0;
    std::uint32_t burst_used_ = 0;
    std::uint32_t data_sn_ = 0;
};

struct WriteParams {
    bool initial_r2t = true;
    std::uint32_t first_burst_length = 65536;
    std::uint32_t max_burst_length = 262144;
    std::uint32_t max_outstanding_r2t = 1;
};

struct R2tRequest {
    std::uint32_t r2t_sn = 0;
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
    std::uint32_t slot = 0;  // which outstanding R2T this is; becomes part of the Target Transfer Tag
};

// Tracks the Data-Out of one write command: immediate data, the unsolicited burst, and solicited bursts.
class WriteTransfer {
  public:
    static constexpr std::uint32_t kMaxOutstanding = 8;
    static constexpr std::uint32_t kUnsolicited = 0xffffffff;  // the "slot" of unsolicited Data-Out

    enum class Result { accepted, protocol_error };

    // `immediate` bytes already arrived with the command. `final_with_command` is the command's F bit.
    void start(std::uint32_t total, std::uint32_t immediate, bool final_with_command,
               const WriteParams& params);

    bool complete() const { return received_ == total_; }
    std::uint32_t received() const { return received_; }
    // A Data-Out arrived with an unexpected DataSN. RFC 7143 §7.1.4 makes that an implied digest error on an
    // earlier PDU: at ErrorRecoveryLevel 0 the command ends in CHECK CONDITION once all its data is in, and
    // the connection lives on.
    bool data_sn_error() const { return data_sn_error_; }

    // The next R2T to send now, if the window allows one.
    std::optional<R2tRequest> next_r2t();

    // Validates one Data-Out PDU (slot from its TTT, or kUnsolicited) and records it. DataSN starts at 0 in
    // every sequence and increases by one per PDU; a wrong DataSN is recorded (data_sn_error), not refused.
    // Offsets, lengths and F bits that do not fit the transfer are protocol errors.
    Result accept(std::uint32_t slot, std::uint32_t offset, std::uint32_t length, bool final_bit,
                  std::uint32_t data_sn);

  private:
    struct Outstanding {
        bool active = false;
        std::uint32_t offset = 0;
        std::uint32_t length = 0;
        std::uint32_t received = 0;
        std::uint32_t next_data_sn = 0;
    };

    std::uint32_t total_ = 0;
    std::uint32_t received_ = 0;
    std::uint32_t unsolicited_next_ = 0;
    std::uint32_t unsolicited_end_ = 0;
    std::uint32_t unsolicited_data_sn_ = 0;
    std::uint32_t next_r2t_offset_ = 0;
    std::uint32_t r2t_sn_ = 0;
    std::uint32_t max_burst_ = 0;
    std::uint32_t max_outstanding_ = 1;
    std::uint32_t active_ = 0;
    bool data_sn_error_ = false;
    std::array<Outstanding, kMaxOutstanding> outstanding_{};
};

}  // namespace bootherd::iscsi
