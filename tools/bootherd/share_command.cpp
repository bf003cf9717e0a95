#include <algorithm>
#include <cctype>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "block/flat_file.hpp"
#include "common/log.hpp"
#include "imagestore/image_chain.hpp"
#include "imagestore/image_format.hpp"
#include "target/iscsi/target_directory.hpp"
#include "target/scsi/target_device.hpp"
#include "tools/bootherd/commands.hpp"
#include "tools/bootherd/descriptor_limit.hpp"
#include "tools/bootherd/iscsi_service.hpp"
#include "tools/bootherd/signals.hpp"

namespace bootherd::cli {
namespace {

struct ShareOptions {
    std::string file;
    std::string iqn;
    std::vector<std::string> listen{"0.0.0.0:3260"};
    bool read_only = false;
    std::string chap;
    std::string mutual_chap;
    std::vector<std::string> allow;
    std::uint32_t block_size = 512;
    bool direct_writes = false;
    unsigned threads = 0;
    IscsiLimits limits{};
};

// iqn.2026-11.org.bootherd:share.<file stem>, lower-cased, with characters iSCSI names may not hold replaced.
std::string iqn_for(const std::filesystem::path& file) {
    std::string stem = file.stem().string();
    for (auto& c : stem) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') c = '-';
    }
    if (stem.empty()) stem = "disk";
    return "iqn.2026-11.org.bootherd:share." + stem;
}

iscsi::Credentials parse_credentials(const std::string& text, const char* option) {
    auto colon = text.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
        throw std::invalid_argument(std::string(option) + " wants USER:SECRET");
    iscsi::Credentials c{text.substr(0, colon), text.substr(colon + 1)};
    if (c.secret.size() < 12)
        log::warn(
            option,
            ": RFC 7143 asks for CHAP secrets of at least 12 characters; some initiators refuse shorter");
    return c;
}

// A stable identity for the LUN (VPD 80/83): the same file keeps the same identifiers across restarts.
std::uint64_t stable_id(const std::filesystem::path& file) {
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a over the canonical path
    for (unsigned char c : std::filesystem::weakly_canonical(file).string())
        h = (h ^ c) * 1099511628211ull;
    return h;
}

// Raw files and block devices are served as they are; VHD and VHDX images (with their parent chains) through
// the image store's engine, which can write only to a VHDX.
std::shared_ptr<block::BlockDevice> open_backend(const ShareOptions& o) {
    const auto format = std::filesystem::is_regular_file(o.file) ? imagestore::detect_format(o.file)
                                                                 : imagestore::ImageFormat::raw;
    if (format == imagestore::ImageFormat::raw)
        return block::FlatFile::open(
            o.file, o.read_only, o.block_size,
            o.direct_writes ? block::WritePath::direct : block::WritePath::page_cache);
    if (o.direct_writes)
        throw std::invalid_argument("--direct-writes applies to raw files and block devices only");
    if (!o.read_only && format == imagestore::ImageFormat::vhd)
        throw std::invalid_argument(o.file + " is a VHD image, which is served read-only: add --read-only");
    auto chain = imagestore::open_image(o.file, o.read_only);
    if (o.block_size != chain->geometry().logical_block_size)
        log::warn("--block-size ", o.block_size, " ignored: ", o.file, " has ",
                  chain->geometry().logical_block_size, "-byte sectors");
    return chain;
}

int run_share(const ShareOptions& o) {
    ShutdownSignals signals;  // before any thread starts, so all of them inherit the blocked mask
    raise_descriptor_limit();

    auto backend = open_backend(o);
    auto id = stable_id(o.file);
    char serial[17];
    std::snprintf(serial, sizeof serial, "%016llx", static_cast<unsigned long long>(id));
    scsi::LogicalUnitConfig lun{
        .lun = 0, .backend = backend, .serial = serial, .naa_id = id, .read_only = o.read_only};
    std::vector<scsi::LogicalUnitConfig> luns;
    luns.push_back(std::move(lun));

    iscsi::TargetNode node;
    node.iqn = o.iqn.empty() ? iqn_for(o.file) : o.iqn;
    node.device = scsi::make_target_device(std::move(luns));
    node.allowed_initiators = o.allow;
    if (!o.chap.empty()) node.chap = parse_credentials(o.chap, "--chap");
    if (!o.mutual_chap.empty()) {
        if (!node.chap) throw std::invalid_argument("--mutual-chap needs --chap as well");
        node.mutual_chap = parse_credentials(o.mutual_chap, "--mutual-chap");
    }
    auto directory = std::make_shared<iscsi::StaticTargetDirectory>();
    auto iqn = node.iqn;
    directory->add(std::move(node));

    std::ostringstream what;
    what << backend->describe() << " (" << backend->geometry().size_bytes << " bytes"
         << (o.read_only ? ", read-only" : "") << ") as " << iqn;
    IscsiService iscsi(o.listen, o.threads, o.limits, directory, what.str());
    log::info("signal ", signals.wait(), ": stopping");
    if (!iscsi.stop()) {
        log::error("stopped, but the final flush of ", iqn, " failed: its recent writes may be lost");
        return 1;
    }
    log::info("stopped");
    return 0;
}

}  // namespace

void add_share_command(CLI::App& app, Action& action) {
    auto o = std::make_shared<ShareOptions>();
    auto* cmd = app.add_subcommand("share",
                                   "Serve one disk (raw, VHD or VHDX image with its parents, or a block "
                                   "device) as LUN 0 of an iSCSI target");
    cmd->add_option("FILE", o->file, "Disk image or block device")->required()->check(CLI::ExistingPath);
    cmd->add_option("--iqn", o->iqn, "Target name (default: derived from the file name)");
    cmd->add_option("--listen", o->listen, "ADDR:PORT to listen on (repeatable)")->capture_default_str();
    cmd->add_flag("--read-only", o->read_only, "Refuse writes (DATA PROTECT)");
    cmd->add_option("--chap", o->chap, "Require CHAP from initiators: USER:SECRET");
    cmd->add_option("--mutual-chap", o->mutual_chap, "Target's credentials for mutual CHAP: USER:SECRET");
    cmd->add_option("--allow", o->allow, "Initiator IQN allowed to log in (repeatable; default: any)");
    cmd->add_option("--block-size", o->block_size, "Logical block size of a raw file or block device")
        ->check(CLI::IsMember({512, 4096}));
    cmd->add_flag("--direct-writes", o->direct_writes,
                  "Raw file or block device: write with O_DIRECT, past the page cache (fast random writes on "
                  "fast storage; slow on a disk without a write cache)");
    cmd->add_option("--threads", o->threads, "Network threads (default: one per core)");
    add_iscsi_limit_options(*cmd, o->limits);
    cmd->callback([o, &action] { action = [o] { return run_share(*o); }; });
}

}  // namespace bootherd::cli
