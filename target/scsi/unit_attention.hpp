#pragma once
// Unit attention conditions of one logical unit, queued per I_T nexus (SAM-5 5.14, SPC-4 5.14). Thread-safe.
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "target/scsi/sense.hpp"

namespace bootherd::scsi {

class UnitAttentions {
  public:
    // A new nexus starts with POWER ON, RESET, OR BUS DEVICE RESET OCCURRED.
    void attach(std::uint64_t nexus_id, const std::string& initiator_port);
    void detach(std::uint64_t nexus_id);

    // Queues `code` for every attached nexus, or every one but `except`.
    void establish_all(Asc code, std::optional<std::uint64_t> except = std::nullopt);
    void establish(std::uint64_t nexus_id, Asc code);
    // Queues `code` for every nexus of the given initiator port (SPC-4 TransportID form).
    void establish_for_port(const std::string& initiator_port, Asc code);

    // Removes and returns the oldest pending condition of a nexus.
    std::optional<Asc> take(std::uint64_t nexus_id);

  private:
    struct NexusQueue {
        std::string initiator_port;
        std::vector<Asc> queue;
    };
    static void push(NexusQueue& q, Asc code);

    mutable std::mutex mutex_;
    std::unordered_map<std::uint64_t, NexusQueue> nexuses_;
};

}  // namespace bootherd::scsi
