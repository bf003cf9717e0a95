#pragma once
// The iPXE scripts a node fetches as boot/{mac}.ipxe: text only, no I/O. Every value written into a script is
// checked against a conservative character set first, because iPXE expands ${...} and splits on whitespace:
// an unexpected character would change what the script does, so it is refused (std::invalid_argument).
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace bootherd::boot {

struct SanbootScript {
    std::string server;  // iSCSI portal host (IPv4 text)
    std::uint16_t port = 3260;
    std::string target_iqn;
    std::string initiator_iqn;
    std::string chap_user;
    std::string chap_secret;
    std::string hostname{};  // the machine's host name; empty: none
};

// Sets the host name (iPXE copies its `hostname` setting into the iBFT's NIC section, where the OS reads it),
// initiator-iqn and one-way CHAP credentials, then `sanboot iscsi:{server}::{port}:0:{target}`.
std::string render_sanboot_script(const SanbootScript& script);

// Leaves network boot: the firmware goes on to the next boot device (the local disk).
std::string render_local_boot_script();

// For a machine that cannot be booted yet (not enrolled, or no image): prints `message`, waits and fetches
// `retry_url` again, for as long as it takes.
std::string render_wait_script(std::string_view message, std::string_view retry_url,
                               std::chrono::seconds wait);

}  // namespace bootherd::boot
