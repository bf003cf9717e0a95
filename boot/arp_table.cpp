#include "boot/arp_table.hpp"

#include <fstream>
#include <sstream>
#include <string>

namespace bootherd::boot {

std::optional<MacAddress> find_in_arp_table(std::istream& table, Ipv4 address) {
    const std::string wanted = address.to_string();
    std::string line;
    std::getline(table, line);  // column headings
    while (std::getline(table, line)) {
        std::istringstream fields(line);
        std::string ip, hw_type, flags, mac;
        if (!(fields >> ip >> hw_type >> flags >> mac)) continue;
        if (ip != wanted || flags == "0x0") continue;
        if (auto parsed = MacAddress::parse(mac)) return parsed;
    }
    return std::nullopt;
}

std::optional<MacAddress> lookup_arp_table(Ipv4 address, const std::filesystem::path& table) {
    std::ifstream in(table);
    if (!in) return std::nullopt;
    return find_in_arp_table(in, address);
}

}  // namespace bootherd::boot
