// libFuzzer harness for the TFTP codec and the transfer state machine: arbitrary datagrams must either parse
// or throw MalformedPacket; what parses must round trip, and feeding it to a running transfer must not crash.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "boot/malformed_packet.hpp"
#include "boot/tftp_file_source.hpp"
#include "boot/tftp_packet.hpp"
#include "boot/tftp_transfer.hpp"

using namespace bootherd::boot;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    TftpPacket packet;
    try {
        packet = parse_tftp_packet(std::span<const std::uint8_t>(data, size));
    } catch (const MalformedPacket&) {
        return 0;
    }
    if (parse_tftp_packet(serialize_tftp_packet(packet)) != packet) std::abort();

    if (const auto* request = std::get_if<TftpRequest>(&packet)) {
        (void)normalize_tftp_path(request->filename);
        (void)negotiate_tftp_options(request->options, 1000, TftpLimits{});
        return 0;
    }
    TftpMemoryContent content(std::string(100, 'x'));
    TftpSettings settings;
    settings.blksize = 8;
    settings.windowsize = 3;
    TftpTransfer transfer(settings, content, TftpLimits{.max_retries = 2, .unanswered_retries = 2});
    const auto now = TftpTransfer::Clock::now();
    transfer.start(now);
    transfer.on_packet(packet, now);
    transfer.on_timeout(now);
    transfer.on_packet(packet, now);
    return 0;
}
