#include <doctest/doctest.h>

#include <stdexcept>

#include "boot/ipxe_script.hpp"
#include "boot/network_interface.hpp"
#include "boot/node_naming.hpp"

using namespace bootherd::boot;

namespace {

SanbootScript node_script() {
    return {.server = "10.99.1.1",
            .port = 3260,
            .target_iqn = "iqn.2026-11.org.bootherd:node.pc-01",
            .initiator_iqn = "iqn.2026-11.org.bootherd:node.pc-01:initiator",
            .chap_user = "u1234567890a",
            .chap_secret = "S3cretS3cretS3cr"};
}

}  // namespace

TEST_CASE("sanboot script sets the node's identity before sanboot") {
    const std::string text = render_sanboot_script(node_script());
    CHECK(text.starts_with("#!ipxe\n"));
    const auto iqn = text.find("set initiator-iqn iqn.2026-11.org.bootherd:node.pc-01:initiator\n");
    const auto user = text.find("set username u1234567890a\n");
    const auto secret = text.find("set password S3cretS3cretS3cr\n");
    const auto san = text.find("sanboot iscsi:10.99.1.1::3260:0:iqn.2026-11.org.bootherd:node.pc-01 ");
    REQUIRE(iqn != std::string::npos);
    REQUIRE(user != std::string::npos);
    REQUIRE(secret != std::string::npos);
    REQUIRE(san != std::string::npos);
    CHECK(iqn < san);
    CHECK(user < san);
    CHECK(secret < san);
}

TEST_CASE("sanboot script sets the host name (for the iBFT) before sanboot, and none when there is none") {
    auto script = node_script();
    CHECK(render_sanboot_script(script).find("hostname") == std::string::npos);
    script.hostname = "desk-7.lab";
    const std::string text = render_sanboot_script(script);
    const auto hostname = text.find("\nset hostname desk-7.lab\n");
    REQUIRE(hostname != std::string::npos);
    CHECK(hostname < text.find("sanboot "));
    script.hostname = "desk 7";
    CHECK_THROWS_AS(render_sanboot_script(script), std::invalid_argument);
}

TEST_CASE("values that iPXE would expand or split are refused") {
    for (const char* bad : {"a b", "${mac}", "x\ny", "semi|colon", "", "q\"uote"}) {
        CAPTURE(bad);
        auto script = node_script();
        script.chap_secret = bad;
        CHECK_THROWS_AS(render_sanboot_script(script), std::invalid_argument);
    }
    auto script = node_script();
    script.target_iqn = "iqn.x:{evil}";
    CHECK_THROWS_AS(render_sanboot_script(script), std::invalid_argument);
}

TEST_CASE("wait script retries the same URL and neutralises its message") {
    const std::string url = "http://10.0.0.1:8080/boot/52:54:00:12:34:56.ipxe";
    const std::string text = render_wait_script("not enrolled ${net0/mac}", url, std::chrono::seconds(7));
    CHECK(text.find("sleep 7\n") != std::string::npos);
    CHECK(text.find("chain --replace --autofree " + url + " || goto retry\n") != std::string::npos);
    CHECK(text.find("${") == std::string::npos);
    CHECK(text.find(":retry\n") < text.find("chain"));
    CHECK_THROWS_AS(render_wait_script("x", "http://a b", std::chrono::seconds(1)), std::invalid_argument);
}

TEST_CASE("local boot script exits iPXE") {
    const std::string text = render_local_boot_script();
    CHECK(text.starts_with("#!ipxe\n"));
    CHECK(text.ends_with("exit\n"));
    CHECK(text.find("sanboot") == std::string::npos);
}

TEST_CASE("node naming patterns") {
    CHECK(NodeNamePattern("node-{n:03}").name(7) == "node-007");
    CHECK(NodeNamePattern("node-{n:03}").name(1234) == "node-1234");
    CHECK(NodeNamePattern("pc{n}-lab").name(42) == "pc42-lab");
    CHECK(NodeNamePattern("{n:09}").name(0) == "000000000");
    for (const char* bad : {"node", "node-{", "node-{m}", "node-{n:3}", "node-{n:00}", "{n}-{n}", "a}{n}"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(NodeNamePattern{bad}, std::invalid_argument);
    }
}

TEST_CASE("DHCP range parsing") {
    const auto [first, last] = parse_ipv4_range("10.99.1.100-10.99.1.199");
    CHECK(first.to_string() == "10.99.1.100");
    CHECK(last.to_string() == "10.99.1.199");
    CHECK(parse_ipv4_range("10.0.0.5-10.0.0.5").first == parse_ipv4_range("10.0.0.5-10.0.0.5").second);
    for (const char* bad :
         {"10.0.0.9-10.0.0.1", "10.0.0.1", "10.0.0.1-", "x-10.0.0.2", "10.0.0.1-10.0.0.256"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(parse_ipv4_range(bad), std::invalid_argument);
    }
}

TEST_CASE("interface_ipv4 finds the loopback address") {
    const auto lo = interface_ipv4("lo");
    REQUIRE(lo);
    CHECK(lo->address.to_string() == "127.0.0.1");
    CHECK(lo->netmask.to_string() == "255.0.0.0");
    CHECK_FALSE(interface_ipv4("no-such-if0"));
}
