#include <doctest/doctest.h>

#include <array>

#include "tools/bootherd/data_dir.hpp"

using bootherd::cli::choose_data_dir;
using bootherd::cli::DataDirSources;
using bootherd::cli::names_option;

TEST_CASE("data directory: command line, then BOOTHERD_DATA, then the file, then ./bootherd-data") {
    CHECK(choose_data_dir({.command_line = "/cli", .environment = "/env", .config_file = "/file"}) == "/cli");
    CHECK(choose_data_dir({.environment = "/env", .config_file = "/file"}) == "/env");
    CHECK(choose_data_dir({.config_file = "/file"}) == "/file");
    CHECK(choose_data_dir({}) == "bootherd-data");
}

TEST_CASE("data directory: an empty BOOTHERD_DATA counts as unset") {
    CHECK(choose_data_dir({.environment = "", .config_file = "/file"}) == "/file");
    CHECK(choose_data_dir({.environment = ""}) == "bootherd-data");
}

TEST_CASE("names_option: --data and --data=DIR before a bare --, nothing that merely starts alike") {
    std::array<char*, 3> given{const_cast<char*>("node"), const_cast<char*>("list"),
                               const_cast<char*>("--data")};
    CHECK(names_option(given, "--data"));
    std::array<char*, 2> joined{const_cast<char*>("--data=/x"), const_cast<char*>("serve")};
    CHECK(names_option(joined, "--data"));
    std::array<char*, 2> alike{const_cast<char*>("--database"), const_cast<char*>("--data-x")};
    CHECK_FALSE(names_option(alike, "--data"));
    std::array<char*, 3> after_mark{const_cast<char*>("share"), const_cast<char*>("--"),
                                    const_cast<char*>("--data")};
    CHECK_FALSE(names_option(after_mark, "--data"));
}
