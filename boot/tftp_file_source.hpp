#pragma once
// What the TFTP server serves: files under one root directory, plus generated content (per-node iPXE scripts
// as a TFTP fallback) registered by path prefix. Path rules: '\' is read as '/', leading '/' are dropped so
// absolute paths resolve inside the root, ".." components are refused, and a path whose real location
// (after following symlinks) is outside the root is refused unless the source trusts the symlinks in its root
// (Debian's /usr/lib/ipxe/ipxe.efi is a symlink to /boot/ipxe.efi).
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "boot/tftp_packet.hpp"
#include "boot/tftp_transfer.hpp"

namespace bootherd::boot {

struct TftpOpenResult {
    std::unique_ptr<TftpContent> content;  // null on failure
    TftpErrorCode error = TftpErrorCode::not_defined;
    std::string message;
};

// The content for a path under the prefix it was registered with, as asked by `client` (a node's script
// goes only to its own address), or the error to answer (a generated file's refusal names no secret).
// Called on the server's I/O thread: keep it quick.
using TftpGenerator =
    std::function<TftpOpenResult(std::string_view path, const boost::asio::ip::address& client)>;

// Splits a requested name into safe relative components; nullopt for empty names and any ".." component.
std::optional<std::string> normalize_tftp_path(std::string_view requested);

class TftpFileSource {
  public:
    enum class Symlinks {
        stay_inside_root,  // a symlink leading out of the root is refused
        trusted,           // whoever can write the root decides: symlinks are followed anywhere
    };
    // Throws std::invalid_argument when root is not an existing directory.
    explicit TftpFileSource(const std::filesystem::path& root,
                            Symlinks symlinks = Symlinks::stay_inside_root);

    void add_generator(std::string path_prefix, TftpGenerator generator);
    TftpOpenResult open(std::string_view requested, const boost::asio::ip::address& client) const;

    const std::filesystem::path& root() const { return root_; }

  private:
    std::filesystem::path root_;  // canonical
    Symlinks symlinks_;
    std::vector<std::pair<std::string, TftpGenerator>> generators_;
};

// In-memory content, for generated files and tests.
class TftpMemoryContent : public TftpContent {
  public:
    explicit TftpMemoryContent(std::string bytes) : bytes_(std::move(bytes)) {}
    std::uint64_t size() const override { return bytes_.size(); }
    std::size_t read(std::uint64_t offset, std::span<std::uint8_t> into) override;

  private:
    std::string bytes_;
};

// A generator's successful answer.
inline TftpOpenResult tftp_in_memory(std::string bytes) {
    return {std::make_unique<TftpMemoryContent>(std::move(bytes)), {}, {}};
}

}  // namespace bootherd::boot
