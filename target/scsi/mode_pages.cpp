#include "target/scsi/mode_pages.hpp"

#include <algorithm>

#include "common/bytes.hpp"

namespace bootherd::scsi {
namespace {

constexpr std::uint8_t kCachingPage = 0x08;
constexpr std::uint8_t kControlPage = 0x0a;
constexpr std::uint8_t kInformationalExceptionsPage = 0x1c;
constexpr std::uint8_t kAllPages = 0x3f;
constexpr std::uint8_t kAllSubpages = 0xff;
constexpr std::uint8_t kPages[] = {kCachingPage, kControlPage, kInformationalExceptionsPage};

constexpr std::uint8_t kDeviceSpecificWriteProtect = 0x80;
constexpr std::uint8_t kDeviceSpecificDpoFua = 0x10;

constexpr std::uint8_t kControlDescriptorSense = 0x04;       // byte 2
constexpr std::uint8_t kControlSoftwareWriteProtect = 0x08;  // byte 4

std::size_t page_length(std::uint8_t code) {
    return code == kCachingPage ? 20 : 12;
}

void append_block_descriptor(std::vector<std::uint8_t>& out, const block::Geometry& g, bool long_lba) {
    const std::uint64_t blocks = g.size_bytes / g.logical_block_size;
    if (long_lba) {
        std::uint8_t d[16] = {};
        store_be<std::uint64_t>(d, blocks);
        store_be<std::uint32_t>(d + 12, g.logical_block_size);
        out.insert(out.end(), d, d + 16);
    } else {
        std::uint8_t d[8] = {};
        store_be<std::uint32_t>(d, blocks > 0xffffffffu ? 0xffffffffu : static_cast<std::uint32_t>(blocks));
        store_be24(d + 5, g.logical_block_size);
        out.insert(out.end(), d, d + 8);
    }
}

}  // namespace

std::vector<std::uint8_t> ModePages::page(std::uint8_t code, PageControl pc, const block::Geometry& geometry,
                                          const Values& values) const {
    std::vector<std::uint8_t> p(page_length(code), 0);
    p[0] = code;
    p[1] = static_cast<std::uint8_t>(p.size() - 2);
    const bool changeable = pc == PageControl::changeable;
    const bool defaults = pc == PageControl::default_values;
    switch (code) {
        case kCachingPage:
            if (!changeable && geometry.write_cache) p[2] = 0x04;  // WCE
            break;
        case kControlPage:
            if (changeable) {
                p[2] = kControlDescriptorSense;
                p[4] = kControlSoftwareWriteProtect;
                break;
            }
            p[3] = 0x10;  // QUEUE ALGORITHM MODIFIER 1: unrestricted reordering
            if (!defaults && values.descriptor_sense) p[2] |= kControlDescriptorSense;
            if (!defaults && values.software_write_protect) p[4] |= kControlSoftwareWriteProtect;
            break;
        case kInformationalExceptionsPage:
            if (!changeable) p[2] = 0x08;  // DEXCPT: no informational exception reporting
            break;
        default:
            break;
    }
    return p;
}

std::vector<std::uint8_t> ModePages::sense(const ModeSenseCdb& cdb, const block::Geometry& geometry,
                                           bool write_protected) const {
    if (cdb.page_control == PageControl::saved)
        fail(SenseKey::illegal_request, asc::saving_parameters_not_supported);
    const bool all = cdb.page_code == kAllPages;
    if (!all && std::find(std::begin(kPages), std::end(kPages), cdb.page_code) == std::end(kPages))
        fail_invalid_field_in_cdb(2, 5);
    if (cdb.subpage_code != 0 && !(cdb.subpage_code == kAllSubpages)) fail_invalid_field_in_cdb(3);

    Values values;
    {
        std::lock_guard lock(mutex_);
        values = current_;
    }
    const std::size_t header = cdb.long_form ? 8 : 4;
    std::vector<std::uint8_t> out(header, 0);
    out[cdb.long_form ? 3 : 2] = static_cast<std::uint8_t>(
        (write_protected || values.software_write_protect ? kDeviceSpecificWriteProtect : 0) |
        kDeviceSpecificDpoFua);
    if (!cdb.disable_block_descriptors) {
        const bool long_lba = cdb.long_lba_accepted;
        if (long_lba) out[4] = 0x01;  // LONGLBA
        append_block_descriptor(out, geometry, long_lba);
        const std::size_t descriptor_length = out.size() - header;
        if (cdb.long_form) {
            store_be<std::uint16_t>(out.data() + 6, static_cast<std::uint16_t>(descriptor_length));
        } else {
            out[3] = static_cast<std::uint8_t>(descriptor_length);
        }
    }
    for (std::uint8_t code : kPages) {
        if (!all && code != cdb.page_code) continue;
        const auto p = page(code, cdb.page_control, geometry, values);
        out.insert(out.end(), p.begin(), p.end());
    }
    if (cdb.long_form) {
        store_be<std::uint16_t>(out.data(), static_cast<std::uint16_t>(out.size() - 2));
    } else {
        out[0] = static_cast<std::uint8_t>(std::min<std::size_t>(out.size() - 1, 0xff));
    }
    return out;
}

void ModePages::select(const ModeSelectCdb& cdb, std::span<const std::uint8_t> parameters,
                       const block::Geometry& geometry) {
    if (!cdb.page_format) fail_invalid_field_in_cdb(1, 4);
    if (cdb.save_pages) fail_invalid_field_in_cdb(1, 0);
    if (parameters.size() < cdb.parameter_list_length)
        fail(SenseKey::illegal_request, asc::parameter_list_length_error);
    parameters = parameters.first(cdb.parameter_list_length);

    const std::size_t header = cdb.long_form ? 8 : 4;
    if (parameters.size() < header) {
        if (parameters.empty()) return;
        fail(SenseKey::illegal_request, asc::parameter_list_length_error);
    }
    const std::size_t descriptor_length =
        cdb.long_form ? load_be<std::uint16_t>(parameters.data() + 6) : parameters[3];
    const bool long_lba = cdb.long_form && (parameters[4] & 0x01);
    const std::size_t one_descriptor = long_lba ? 16 : 8;
    if (descriptor_length % one_descriptor != 0 || descriptor_length > one_descriptor)
        fail_invalid_field_in_parameter_list(cdb.long_form ? 6 : 3);
    if (header + descriptor_length > parameters.size())
        fail(SenseKey::illegal_request, asc::parameter_list_length_error);
    if (descriptor_length != 0) {
        const std::uint8_t* d = parameters.data() + header;
        const std::uint32_t block_length = long_lba ? load_be<std::uint32_t>(d + 12) : load_be24(d + 5);
        if (block_length != geometry.logical_block_size)
            fail_invalid_field_in_parameter_list(static_cast<std::uint16_t>(header + (long_lba ? 12 : 5)));
    }

    std::lock_guard lock(mutex_);
    Values next = current_;
    std::size_t offset = header + descriptor_length;
    while (offset < parameters.size()) {
        if (parameters.size() - offset < 2) fail(SenseKey::illegal_request, asc::parameter_list_length_error);
        const std::uint8_t code = parameters[offset] & 0x3f;
        if (parameters[offset] & 0x40)
            fail_invalid_field_in_parameter_list(static_cast<std::uint16_t>(offset), 6);
        if (std::find(std::begin(kPages), std::end(kPages), code) == std::end(kPages))
            fail_invalid_field_in_parameter_list(static_cast<std::uint16_t>(offset), 5);
        const std::size_t length = page_length(code);
        if (parameters[offset + 1] != length - 2)
            fail_invalid_field_in_parameter_list(static_cast<std::uint16_t>(offset + 1));
        if (parameters.size() - offset < length)
            fail(SenseKey::illegal_request, asc::parameter_list_length_error);

        const auto current = page(code, PageControl::current, geometry, current_);
        const auto changeable = page(code, PageControl::changeable, geometry, current_);
        const std::uint8_t* sent = parameters.data() + offset;
        for (std::size_t i = 2; i < length; ++i) {
            const std::uint8_t differs = static_cast<std::uint8_t>((sent[i] ^ current[i]) & ~changeable[i]);
            if (differs != 0) fail_invalid_field_in_parameter_list(static_cast<std::uint16_t>(offset + i));
        }
        if (code == kControlPage) {
            next.descriptor_sense = (sent[2] & kControlDescriptorSense) != 0;
            next.software_write_protect = (sent[4] & kControlSoftwareWriteProtect) != 0;
        }
        offset += length;
    }
    current_ = next;
}

SenseFormat ModePages::sense_format() const {
    std::lock_guard lock(mutex_);
    return current_.descriptor_sense ? SenseFormat::descriptor : SenseFormat::fixed;
}

bool ModePages::software_write_protect() const {
    std::lock_guard lock(mutex_);
    return current_.software_write_protect;
}

void ModePages::reset() {
    std::lock_guard lock(mutex_);
    current_ = Values{};
}

}  // namespace bootherd::scsi
