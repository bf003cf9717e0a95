#include <doctest/doctest.h>

#include <filesystem>
#include <vector>

#include "boot/tftp_file_source.hpp"
#include "temp_directory.hpp"

using namespace bootherd::boot;
using bootherd::boot::testing::TempDirectory;

namespace {
const boost::asio::ip::address any_client = boost::asio::ip::make_address("10.0.0.9");

std::string read_all(TftpContent& content) {
    std::vector<std::uint8_t> buffer(content.size());
    const std::size_t n = content.read(0, buffer);
    return std::string(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(n));
}
}  // namespace

TEST_CASE("tftp paths: normalisation") {
    CHECK(normalize_tftp_path("undionly.kpxe") == "undionly.kpxe");
    CHECK(normalize_tftp_path("/boot//./x.ipxe") == "boot/x.ipxe");
    CHECK(normalize_tftp_path("\\Boot\\x64\\wdsmgfw.efi") == "Boot/x64/wdsmgfw.efi");
    CHECK_FALSE(normalize_tftp_path("../etc/passwd"));
    CHECK_FALSE(normalize_tftp_path("a/../../b"));
    CHECK_FALSE(normalize_tftp_path("a\\..\\b"));
    CHECK_FALSE(normalize_tftp_path("/"));
    CHECK_FALSE(normalize_tftp_path(""));
}

TEST_CASE("tftp file source: serves files inside the root only") {
    TempDirectory outside;
    outside.write("secret", "top secret");
    TempDirectory root;
    root.write("undionly.kpxe", "kpxe bytes");
    root.write("sub/ipxe.efi", "efi bytes");
    std::filesystem::create_symlink(outside.path() / "secret", root.path() / "escape");
    std::filesystem::create_symlink(root.path() / "sub/ipxe.efi", root.path() / "alias.efi");
    std::filesystem::create_directory(root.path() / "dir");
    TftpFileSource source(root.path());

    auto ok = source.open("/undionly.kpxe", any_client);
    REQUIRE(ok.content);
    CHECK(read_all(*ok.content) == "kpxe bytes");
    auto nested = source.open("sub\\ipxe.efi", any_client);
    REQUIRE(nested.content);
    CHECK(read_all(*nested.content) == "efi bytes");
    auto alias = source.open("alias.efi", any_client);  // a symlink that stays inside the root is fine
    REQUIRE(alias.content);
    CHECK(read_all(*alias.content) == "efi bytes");

    CHECK(source.open("escape", any_client).error == TftpErrorCode::access_violation);
    CHECK_FALSE(source.open("escape", any_client).content);
    CHECK(source.open("../" + outside.path().filename().string() + "/secret", any_client).error ==
          TftpErrorCode::access_violation);
    // An absolute path naming the real file outside is resolved inside the root, where it does not exist.
    CHECK(source.open((outside.path() / "secret").string(), any_client).error ==
          TftpErrorCode::file_not_found);
    CHECK(source.open("missing", any_client).error == TftpErrorCode::file_not_found);
    CHECK(source.open("dir", any_client).error == TftpErrorCode::access_violation);
}

TEST_CASE("tftp file source: trusted symlinks may leave the root, requested names still may not") {
    TempDirectory outside;
    outside.write("ipxe.efi", "efi in /boot");
    outside.write("secret", "top secret");
    TempDirectory root;
    std::filesystem::create_symlink(outside.path() / "ipxe.efi", root.path() / "ipxe.efi");
    TftpFileSource source(root.path(), TftpFileSource::Symlinks::trusted);

    auto linked = source.open("ipxe.efi", any_client);
    REQUIRE(linked.content);
    CHECK(read_all(*linked.content) == "efi in /boot");
    CHECK(source.open("../" + outside.path().filename().string() + "/secret", any_client).error ==
          TftpErrorCode::access_violation);
    CHECK(source.open((outside.path() / "secret").string(), any_client).error ==
          TftpErrorCode::file_not_found);
}

TEST_CASE("tftp file source: generated content by prefix, disk otherwise") {
    TempDirectory root;
    root.write("boot/static.ipxe", "from disk");
    TftpFileSource source(root.path());
    source.add_generator("boot/52:54", [](std::string_view path, const boost::asio::ip::address& client) {
        if (client != any_client)
            return TftpOpenResult{nullptr, TftpErrorCode::access_violation, "not for you"};
        if (path == "boot/52:54:00:00:00:01.ipxe") return tftp_in_memory("#!ipxe\nsanboot iscsi:x\n");
        return TftpOpenResult{nullptr, TftpErrorCode::file_not_found, "file not found"};
    });
    auto generated = source.open("/boot/52:54:00:00:00:01.ipxe", any_client);
    REQUIRE(generated.content);
    CHECK(read_all(*generated.content) == "#!ipxe\nsanboot iscsi:x\n");
    CHECK(source.open("boot/52:54:00:00:00:02.ipxe", any_client).error == TftpErrorCode::file_not_found);
    // The generator sees who asks: another address gets its refusal, not the content.
    auto refused = source.open("boot/52:54:00:00:00:01.ipxe", boost::asio::ip::make_address("10.0.0.10"));
    CHECK_FALSE(refused.content);
    CHECK(refused.error == TftpErrorCode::access_violation);
    auto disk = source.open("boot/static.ipxe", any_client);
    REQUIRE(disk.content);
    CHECK(read_all(*disk.content) == "from disk");
}

TEST_CASE("tftp file source: root must be a directory") {
    CHECK_THROWS_AS(TftpFileSource("/nonexistent/bootherd/root"), std::invalid_argument);
}
