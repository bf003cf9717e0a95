#include "boot/ipxe_script.hpp"

#include <algorithm>
#include <stdexcept>

namespace bootherd::boot {
namespace {

// Characters that mean nothing special to iPXE's parser: no whitespace, '$', '{', '}', '#', quotes,
// backslashes or the command separators '|' and '&'.
bool is_plain_character(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("-._:/@+=,%").find(c) != std::string_view::npos;
}

const std::string& checked(const std::string& value, std::string_view what) {
    if (value.empty() || !std::all_of(value.begin(), value.end(), is_plain_character))
        throw std::invalid_argument(std::string(what) + " '" + value +
                                    "' cannot be written into an iPXE script");
    return value;
}

// Free text for `echo`: printable ASCII without iPXE's expansion and quoting characters.
std::string echo_text(std::string_view text) {
    std::string out;
    for (const char c : text) {
        const bool printable = c >= 0x20 && c < 0x7f;
        out.push_back(printable && std::string_view("${}\\\"'#|&").find(c) == std::string_view::npos ? c
                                                                                                     : '_');
    }
    return out;
}

}  // namespace

std::string render_sanboot_script(const SanbootScript& s) {
    std::string text = "#!ipxe\n";
    if (!s.hostname.empty()) text += "set hostname " + checked(s.hostname, "host name") + "\n";
    text += "set initiator-iqn " + checked(s.initiator_iqn, "initiator IQN") + "\n";
    text += "set username " + checked(s.chap_user, "CHAP user") + "\n";
    text += "set password " + checked(s.chap_secret, "CHAP secret") + "\n";
    text += "sanboot iscsi:" + checked(s.server, "iSCSI server") + "::" + std::to_string(s.port) +
            ":0:" + checked(s.target_iqn, "target IQN") + " || goto failed\n";
    text += ":failed\n";
    text += "echo bootherd: sanboot failed, leaving network boot\n";
    text += "exit 1\n";
    return text;
}

std::string render_local_boot_script() {
    return "#!ipxe\necho bootherd: network boot is disabled for this machine\nexit\n";
}

std::string render_wait_script(std::string_view message, std::string_view retry_url,
                               std::chrono::seconds wait) {
    const std::string url(retry_url);
    std::string text = "#!ipxe\n";
    text += ":retry\n";
    text += "echo bootherd: " + echo_text(message) + "; retrying in " + std::to_string(wait.count()) + " s\n";
    text += "sleep " + std::to_string(wait.count()) + "\n";
    text += "chain --replace --autofree " + checked(url, "script URL") + " || goto retry\n";
    return text;
}

}  // namespace bootherd::boot
