#include "imagestore/store/qemu_image.hpp"

#include <array>
#include <boost/json.hpp>
#include <fstream>

#include "imagestore/image_error.hpp"
#include "imagestore/store/image_copy.hpp"

namespace bootherd::imagestore::store {
namespace fs = std::filesystem;
namespace {

// A qemu "json:" pseudo-filename: `file` read as `format` with no backing file, so qemu-img opens no other
// image even if a reference slipped past the check.
std::string without_backing(const fs::path& file, const std::string& format) {
    const boost::json::object spec{{"driver", format},
                                   {"backing", nullptr},
                                   {"file", {{"driver", "file"}, {"filename", file.string()}}}};
    return "json:" + boost::json::serialize(spec);
}

boost::json::object info(const fs::path& file, const std::string& format) {
    std::string output;
    if (run_program({"qemu-img", "info", "--output=json", without_backing(file, format)}, output) != 0)
        throw ImageError(file.string(),
                         "qemu-img cannot read it as " + format + ": " + last_output_line(output));
    boost::system::error_code ec;
    auto parsed = boost::json::parse(output, ec);
    if (ec || !parsed.is_object())
        throw ImageError(file.string(), "qemu-img info gave no JSON: " + last_output_line(output));
    return parsed.as_object();
}

std::string text_at(const boost::json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    return value && value->is_string() ? std::string(value->as_string()) : std::string{};
}

std::string head_of(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::array<char, 21> head{};
    in.read(head.data(), head.size());
    return std::string(head.data(), static_cast<std::size_t>(in.gcount()));
}

constexpr std::string_view kVmdkDescriptor = "# Disk DescriptorFile";

[[noreturn]] void refuse(const fs::path& file, const std::string& what, const std::string& target) {
    throw ImageError(file.string(), "refers to " + what + " '" + target +
                                        "' outside the image; only self-contained images are imported "
                                        "(convert it to one file first, e.g. `qemu-img convert -O qcow2`)");
}

}  // namespace

std::string qemu_format(const fs::path& file) {
    const std::string head = head_of(file);
    if (head.starts_with("QFI\xfb")) return "qcow2";
    if (head.starts_with("KDMV") || head.starts_with(kVmdkDescriptor)) return "vmdk";
    return {};
}

void require_self_contained(const fs::path& file, const std::string& format) {
    if (!program_available("qemu-img"))
        throw ImageError(file.string(), format + " images need qemu-img (package qemu-utils) to import");
    // A text descriptor only names extent files (qemu would open them to describe it): the data is elsewhere.
    if (head_of(file).starts_with(kVmdkDescriptor))
        throw ImageError(file.string(),
                         "is a VMDK descriptor, which keeps its data in other files; only "
                         "self-contained images are imported (convert it to one file first, "
                         "e.g. `qemu-img convert -O qcow2`)");
    const auto image = info(file, format);
    if (auto backing = text_at(image, "full-backing-filename"); !backing.empty())
        refuse(file, "a backing file", backing);
    if (auto backing = text_at(image, "backing-filename"); !backing.empty())
        refuse(file, "a backing file", backing);
    const auto* specific = image.if_contains("format-specific");
    const auto* data =
        specific && specific->is_object() ? specific->as_object().if_contains("data") : nullptr;
    if (!data || !data->is_object()) return;
    if (auto data_file = text_at(data->as_object(), "data-file"); !data_file.empty())
        refuse(file, "an external data file", data_file);
    if (const auto* extents = data->as_object().if_contains("extents"); extents && extents->is_array())
        for (const auto& extent : extents->as_array())
            if (extent.is_object())
                if (auto name = text_at(extent.as_object(), "filename"); name != file.string())
                    refuse(file, "an extent file", name);
}

void convert_to_raw(const fs::path& file, const std::string& format, const fs::path& raw) {
    std::string output;
    if (run_program({"qemu-img", "convert", "-O", "raw", without_backing(file, format), raw.string()},
                    output) != 0) {
        std::error_code ignored;
        fs::remove(raw, ignored);
        throw ImageError(file.string(), "qemu-img convert failed: " + last_output_line(output));
    }
}

}  // namespace bootherd::imagestore::store
