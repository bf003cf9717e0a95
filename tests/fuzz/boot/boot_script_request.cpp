// libFuzzer harness for what a boot script request carries from the network (the {mac} of GET
// /boot/{mac}.ipxe or TFTP boot/<mac>.ipxe): MacAddress::parse must accept or refuse any text without
// crashing, what it accepts must round trip through the text form, and the wait script built for that MAC
// must render.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "boot/boot_file.hpp"
#include "boot/ipxe_script.hpp"
#include "boot/mac_address.hpp"

using namespace bootherd::boot;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto mac = MacAddress::parse(text);
    if (!mac) return 0;
    if (MacAddress::parse(mac->to_string()) != mac) std::abort();
    const std::string url = default_script_url(Ipv4({10, 0, 0, 1}), 8080, *mac);
    if (render_wait_script(text, url, std::chrono::seconds(5)).find("${") != std::string::npos) std::abort();
    return 0;
}
