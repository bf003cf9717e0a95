#include "web/api/server_facts.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <map>
#include <memory>
#include <system_error>

namespace bootherd::web {
namespace {

unsigned prefix_length(const unsigned char* mask, std::size_t bytes) {
    unsigned bits = 0;
    for (std::size_t i = 0; i < bytes; ++i)
        bits += static_cast<unsigned>(std::popcount(static_cast<unsigned>(mask[i])));
    return bits;
}

// "address/prefix" of an AF_INET or AF_INET6 entry.
std::optional<std::string> address_text(const ifaddrs& entry) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* address = nullptr;
    unsigned prefix = 0;
    const int family = entry.ifa_addr->sa_family;
    if (family == AF_INET) {
        address = &reinterpret_cast<const sockaddr_in*>(entry.ifa_addr)->sin_addr;
        if (entry.ifa_netmask)
            prefix = prefix_length(reinterpret_cast<const unsigned char*>(
                                       &reinterpret_cast<const sockaddr_in*>(entry.ifa_netmask)->sin_addr),
                                   4);
    } else if (family == AF_INET6) {
        address = &reinterpret_cast<const sockaddr_in6*>(entry.ifa_addr)->sin6_addr;
        if (entry.ifa_netmask)
            prefix = prefix_length(reinterpret_cast<const unsigned char*>(
                                       &reinterpret_cast<const sockaddr_in6*>(entry.ifa_netmask)->sin6_addr),
                                   16);
    } else {
        return std::nullopt;
    }
    if (!inet_ntop(family, address, text, sizeof text)) return std::nullopt;
    return std::string(text) + "/" + std::to_string(prefix);
}

std::string mac_text(const sockaddr_ll& link) {
    if (link.sll_halen != 6) return {};
    char text[18];
    std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", link.sll_addr[0], link.sll_addr[1],
                  link.sll_addr[2], link.sll_addr[3], link.sll_addr[4], link.sll_addr[5]);
    return text;
}

}  // namespace

std::vector<HostInterface> host_interfaces() {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) throw std::system_error(errno, std::generic_category(), "getifaddrs");
    const std::unique_ptr<ifaddrs, decltype(&freeifaddrs)> owner(list, &freeifaddrs);
    std::map<std::string, HostInterface> by_name;
    for (const ifaddrs* entry = list; entry; entry = entry->ifa_next) {
        if (!entry->ifa_name) continue;
        auto found = by_name.find(entry->ifa_name);
        if (found == by_name.end()) {
            if (by_name.size() >= kMaxHostInterfaces) continue;
            found = by_name.emplace(entry->ifa_name, HostInterface{.name = entry->ifa_name}).first;
        }
        HostInterface& host = found->second;
        host.up = host.up || (entry->ifa_flags & IFF_UP) != 0;
        if (!entry->ifa_addr) continue;
        if (entry->ifa_addr->sa_family == AF_PACKET) {
            host.mac = mac_text(*reinterpret_cast<const sockaddr_ll*>(entry->ifa_addr));
        } else if (host.addresses.size() < kMaxInterfaceAddresses) {
            if (auto text = address_text(*entry)) host.addresses.push_back(std::move(*text));
        }
    }
    std::vector<HostInterface> interfaces;
    interfaces.reserve(by_name.size());
    for (auto& [name, host] : by_name)
        interfaces.push_back(std::move(host));
    return interfaces;
}

FileSystemSpace file_system_space(const std::filesystem::path& path) {
    struct statvfs stats {};
    if (statvfs(path.c_str(), &stats) != 0)
        throw std::system_error(errno, std::generic_category(), "statvfs " + path.string());
    return FileSystemSpace{.total = static_cast<std::uint64_t>(stats.f_blocks) * stats.f_frsize,
                           .free = static_cast<std::uint64_t>(stats.f_bavail) * stats.f_frsize};
}

}  // namespace bootherd::web
