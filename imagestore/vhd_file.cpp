#include "imagestore/vhd_file.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "common/bytes.hpp"
#include "imagestore/image_error.hpp"
#include "imagestore/utf16.hpp"

namespace bootherd::imagestore {

namespace {

constexpr std::size_t kFooterSize = 512;
constexpr std::size_t kDynamicHeaderSize = 1024;
constexpr std::uint32_t kUnallocated = 0xffffffff;

// Ones' complement of the byte sum, skipping the 4-byte checksum field at `field`.
std::uint32_t vhd_checksum(std::span<const std::byte> bytes, std::size_t field) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i)
        if (i < field || i >= field + 4) sum += std::to_integer<std::uint32_t>(bytes[i]);
    return ~sum;
}

}  // namespace

VhdFile::VhdFile(const std::string& path) : file_(path, ImageFile::Access::read_only) {}

std::shared_ptr<VhdFile> VhdFile::open(const std::string& path) {
    auto f = std::make_shared<VhdFile>(path);
    try {
        f->parse();
    } catch (const FormatError& e) {
        throw ImageError(path, e.what());
    }
    return f;
}

void VhdFile::parse() {
    auto fail = [](const auto&... parts) {
        std::ostringstream msg;
        (msg << ... << parts);
        throw FormatError(msg.str());
    };
    const std::uint64_t file_size = file_.size();
    if (file_size < kFooterSize) fail("too small for a VHD footer");
    std::array<std::byte, kFooterSize> footer{};
    file_.read_exact(file_size - kFooterSize, footer);
    if (std::memcmp(footer.data(), "conectix", 8) != 0) fail("VHD footer has a bad cookie");
    if (load_be<std::uint32_t>(footer.data() + 64) != vhd_checksum(footer, 64))
        fail("VHD footer checksum mismatch");
    std::uint32_t type = load_be<std::uint32_t>(footer.data() + 60);
    if (type != 2 && type != 3 && type != 4) fail("unsupported VHD disk type ", type);
    type_ = static_cast<Type>(type);
    std::memcpy(unique_id_.data(), footer.data() + 68, 16);

    // Virtual PC and qemu (creator "vpc ", "qemu") size the disk by its CHS geometry unless that geometry is
    // the maximum; everyone else uses the current size field. This matches qemu's reading.
    size_ = load_be<std::uint64_t>(footer.data() + 48);
    std::uint32_t cylinders = load_be<std::uint16_t>(footer.data() + 56);
    std::uint32_t heads = std::to_integer<std::uint32_t>(footer[58]);
    std::uint32_t spt = std::to_integer<std::uint32_t>(footer[59]);
    bool chs_creator =
        std::memcmp(footer.data() + 28, "vpc ", 4) == 0 || std::memcmp(footer.data() + 28, "qemu", 4) == 0;
    bool max_chs = cylinders == 65535 && heads == 16 && spt == 255;
    if (chs_creator && !max_chs) size_ = std::uint64_t{cylinders} * heads * spt * 512;
    size_ = size_ / 512 * 512;
    if (size_ == 0) fail("VHD disk size is zero");

    if (type_ == Type::fixed) {
        if (size_ > file_size - kFooterSize)
            fail("truncated: fixed VHD holds less data than its size ", size_);
        return;
    }

    std::uint64_t header_at = load_be<std::uint64_t>(footer.data() + 16);
    if (header_at > file_size || kDynamicHeaderSize > file_size - header_at)
        fail("truncated: dynamic header at ", header_at, " lies past the end of the file");
    std::array<std::byte, kDynamicHeaderSize> dh{};
    file_.read_exact(header_at, dh);
    if (std::memcmp(dh.data(), "cxsparse", 8) != 0) fail("VHD dynamic header has a bad cookie");
    if (load_be<std::uint32_t>(dh.data() + 36) != vhd_checksum(dh, 36))
        fail("VHD dynamic header checksum mismatch");
    std::uint64_t table_at = load_be<std::uint64_t>(dh.data() + 16);
    std::uint32_t entries = load_be<std::uint32_t>(dh.data() + 28);
    block_size_ = load_be<std::uint32_t>(dh.data() + 32);
    if (block_size_ < 512 || block_size_ % 512 != 0 || (block_size_ & (block_size_ - 1)) != 0 ||
        block_size_ > (256u << 20))
        fail("VHD block size ", block_size_, " is invalid");
    std::uint64_t blocks = (size_ + block_size_ - 1) / block_size_;
    if (entries < blocks) fail("VHD BAT has ", entries, " entries but the disk needs ", blocks);
    if (table_at > file_size || std::uint64_t{entries} * 4 > file_size - table_at)
        fail("truncated: VHD BAT lies past the end of the file");
    std::memcpy(parent_id_.data(), dh.data() + 40, 16);

    bitmap_bytes_ = (block_size_ / 512 / 8 + 511) / 512 * 512;
    std::vector<std::byte> bat(blocks * 4);
    file_.read_exact(table_at, bat);
    block_offsets_.assign(blocks, 0);
    bitmaps_.resize(blocks);
    for (std::uint64_t b = 0; b < blocks; ++b) {
        std::uint32_t sector = load_be<std::uint32_t>(bat.data() + 4 * b);
        if (sector == kUnallocated) continue;
        std::uint64_t at = std::uint64_t{sector} * 512;
        if (at < 512 || at > file_size || bitmap_bytes_ + block_size_ > file_size - at)
            fail("BAT entry ", b, " points past end of file");
        bitmaps_[b].resize(bitmap_bytes_);
        file_.read_exact(at, bitmaps_[b]);
        block_offsets_[b] = at + bitmap_bytes_;
    }

    if (type_ == Type::differencing) {
        namespace fs = std::filesystem;
        std::string dir = fs::path(path()).parent_path().string();
        for (std::size_t i = 0; i < 8; ++i) {
            const std::byte* e = dh.data() + 576 + 24 * i;
            std::uint32_t length = load_be<std::uint32_t>(e + 8);
            std::uint64_t at = load_be<std::uint64_t>(e + 16);
            bool relative = std::memcmp(e, "W2ru", 4) == 0;
            bool absolute = std::memcmp(e, "W2ku", 4) == 0;
            if ((!relative && !absolute) || length == 0) continue;
            if (length > 65536 || at > file_size || length > file_size - at)
                fail("parent locator ", i, " lies past the end of the file");
            std::vector<std::byte> raw(length);
            file_.read_exact(at, raw);
            auto text = utf16_to_utf8(raw, Utf16Order::little);
            if (!text) fail("parent locator ", i, " is not valid UTF-16");
            std::string p = *text;
            std::replace(p.begin(), p.end(), '\\', '/');
            if (relative) p = (fs::path(dir) / p).lexically_normal().string();
            auto pos = relative ? parent_paths_.begin() : parent_paths_.end();
            parent_paths_.insert(pos, p);
        }
        if (parent_paths_.empty()) fail("differencing VHD without a usable parent locator");
    }
}

Mapping VhdFile::map(std::uint64_t offset, std::uint64_t max_length) const {
    if (type_ == Type::fixed) return {Mapping::Source::data, offset, max_length};
    std::uint64_t block = offset / block_size_;
    std::uint64_t in_block = offset % block_size_;
    std::uint64_t length = std::min<std::uint64_t>(max_length, block_size_ - in_block);
    const Mapping::Source absent =
        type_ == Type::differencing ? Mapping::Source::parent : Mapping::Source::zero;
    if (block_offsets_[block] == 0) return {absent, 0, length};
    const std::vector<std::byte>& bitmap = bitmaps_[block];
    auto bit = [&](std::uint64_t s) {
        return (std::to_integer<unsigned>(bitmap[s / 8]) >> (7 - s % 8)) & 1u;
    };
    std::uint64_t first = in_block / 512, limit = first + length / 512;
    unsigned value = bit(first);
    std::uint64_t s = first + 1;
    while (s < limit && bit(s) == value)
        ++s;
    length = (s - first) * 512;
    if (value) return {Mapping::Source::data, block_offsets_[block] + in_block, length};
    return {absent, 0, length};
}

void VhdFile::check_parent(const Layer& parent) const {
    const auto* p = dynamic_cast<const VhdFile*>(&parent);
    if (!p) throw ImageError(path(), "parent " + parent.path() + " is not a VHD file");
    if (p->unique_id() != parent_id_)
        throw ImageError(path(),
                         "parent " + parent.path() +
                             " does not match: its unique id differs from the one recorded in the child");
    if (p->virtual_size() != virtual_size())
        throw ImageError(path(), "parent " + parent.path() + " has a different size");
}

}  // namespace bootherd::imagestore
