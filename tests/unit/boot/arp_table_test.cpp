#include <doctest/doctest.h>

#include <sstream>

#include "boot/arp_table.hpp"

using namespace bootherd::boot;

TEST_CASE("arp table: finds complete entries only") {
    std::istringstream table(
        "IP address       HW type     Flags       HW address            Mask     Device\n"
        "10.0.0.7         0x1         0x0         00:00:00:00:00:00     *        br0\n"
        "10.0.0.70        0x1         0x2         52:54:00:aa:bb:cc     *        br0\n"
        "10.0.0.8         0x1         0x2         52:54:00:12:34:08     *        br0\n");
    CHECK(find_in_arp_table(table, Ipv4({10, 0, 0, 8})) == MacAddress::parse("52:54:00:12:34:08"));
    table.clear();
    table.seekg(0);
    CHECK_FALSE(find_in_arp_table(table, Ipv4({10, 0, 0, 7})));
    table.clear();
    table.seekg(0);
    CHECK_FALSE(find_in_arp_table(table, Ipv4({10, 0, 0, 9})));
    CHECK_FALSE(lookup_arp_table(Ipv4({10, 0, 0, 9}), "/nonexistent/arp"));
}
