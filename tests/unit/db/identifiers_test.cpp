#include <doctest/doctest.h>

#include <set>

#include "db/credentials.hpp"
#include "db/error.hpp"
#include "db/identifiers.hpp"

using namespace bootherd::db;

TEST_CASE("MAC addresses in every accepted form normalise to lower-case colon form") {
    for (const char* text : {"52:54:00:AB:cd:0F", "52-54-00-ab-CD-0f", "5254.00ab.cd0f", "525400ABCD0F"}) {
        CAPTURE(text);
        CHECK(normalize_mac(text) == "52:54:00:ab:cd:0f");
    }
}

TEST_CASE("malformed MAC addresses are rejected") {
    for (const char* text :
         {"", "52:54:00:ab:cd", "52:54:00:ab:cd:0f:11", "52:54-00:ab:cd:0f", "52:54:00:ab:cd:0g",
          "5254.00ab-cd0f", "52540:0abcd0f", "525400abcd0", "525400abcd0f0", "52::54:00:ab:cd:0",
          " 52:54:00:ab:cd:0f", "5254:00ab:cd0f", "52.54.00.ab.cd.0f", "525.400abc.d0f"}) {
        CAPTURE(text);
        CHECK_FALSE(normalize_mac(text).has_value());
    }
    try {
        require_mac("nope");
        FAIL("expected InvalidArgument");
    } catch (const InvalidArgument& e) {
        CHECK(e.field() == "mac");
    }
}

TEST_CASE("names allow 1-63 characters from A-Z a-z 0-9 . _ -") {
    CHECK(is_valid_name("pc-01"));
    CHECK(is_valid_name("Lab_3.desk-12"));
    CHECK(is_valid_name(std::string(63, 'a')));
    CHECK_FALSE(is_valid_name(""));
    CHECK_FALSE(is_valid_name(std::string(64, 'a')));
    CHECK_FALSE(is_valid_name("pc 01"));
    CHECK_FALSE(is_valid_name("pc/01"));
    CHECK_FALSE(is_valid_name("pc:01"));
    CHECK_FALSE(is_valid_name("p\xc3\xa9"));
}

TEST_CASE("node IQNs are valid iSCSI names derived from the node name") {
    CHECK(node_iqn("pc-01") == "iqn.2026-11.org.bootherd:node.pc-01");
    CHECK(node_iqn("Lab_PC.3") == "iqn.2026-11.org.bootherd:node.lab-pc.3");
}

TEST_CASE("random credentials have the requested length, the alphanumeric alphabet, and differ") {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        const std::string secret = random_credential(chap_secret_length);
        CHECK(secret.size() == chap_secret_length);
        for (const char c : secret) {
            CHECK(((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')));
        }
        seen.insert(secret);
    }
    CHECK(seen.size() == 100);
    CHECK(chap_user_length >= 12);
    CHECK(chap_secret_length <= 16);
}
