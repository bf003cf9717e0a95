// Fuzzes the VHDX parsers (file identifier, headers, region tables, metadata, BAT, log search) over an
// in-memory image. A whole image is megabytes of mostly zeros, so the input describes it sparsely:
//   u64 file size, then records of { u32 offset, u32 length, length bytes }; unlisted bytes are zero.
// make_seed.py turns real VHDX files into this form.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "common/bytes.hpp"
#include "imagestore/byte_source.hpp"
#include "imagestore/image_error.hpp"
#include "imagestore/vhdx_format.hpp"
#include "imagestore/vhdx_log.hpp"

namespace {

using namespace bootherd;
using namespace bootherd::imagestore;

class SparseSource final : public ByteSource {
  public:
    SparseSource(const std::uint8_t* data, std::size_t size) {
        if (size < 8) return;
        size_ = load_le<std::uint64_t>(data) % (64ull << 20);  // keep reads small enough to be quick
        std::size_t at = 8;
        while (at + 8 <= size) {
            Record r;
            r.offset = load_le<std::uint32_t>(data + at);
            std::size_t length = load_le<std::uint32_t>(data + at + 4);
            at += 8;
            length = std::min(length, size - at);
            r.bytes.assign(reinterpret_cast<const std::byte*>(data + at),
                           reinterpret_cast<const std::byte*>(data + at + length));
            at += length;
            records_.push_back(std::move(r));
        }
    }
    std::uint64_t size() const override { return size_; }
    void read_exact(std::uint64_t offset, std::span<std::byte> out) const override {
        if (offset > size_ || out.size() > size_ - offset) throw FormatError("truncated");
        std::memset(out.data(), 0, out.size());
        for (const Record& r : records_) {
            std::uint64_t lo = std::max<std::uint64_t>(offset, r.offset);
            std::uint64_t hi = std::min<std::uint64_t>(offset + out.size(), r.offset + r.bytes.size());
            if (lo < hi) std::memcpy(out.data() + (lo - offset), r.bytes.data() + (lo - r.offset), hi - lo);
        }
    }

  private:
    struct Record {
        std::uint64_t offset;
        std::vector<std::byte> bytes;
    };
    std::uint64_t size_ = 0;
    std::vector<Record> records_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    SparseSource src(data, size);
    try {
        vhdx::check_file_identifier(src);
        auto current = vhdx::read_current_header(src);
        if (auto replay = vhdx::find_active_log(src, current.header)) (void)replay->writes.size();
        auto layout = vhdx::read_layout(src, current);
        (void)layout.bat.size();
    } catch (const FormatError&) {
    }
    return 0;
}
