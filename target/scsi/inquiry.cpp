// INQUIRY: standard data (SPC-4 6.6.2) and the vital product data pages 00h, 80h, 83h, B0h, B1h, B2h.
#include <algorithm>
#include <cstdio>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"
#include "target/scsi/cdb.hpp"
#include "target/scsi/handlers.hpp"

namespace bootherd::scsi::handlers {
namespace {

constexpr std::string_view kVendor = "BOOTHERD";
constexpr std::string_view kProduct = "bootherd disk";
constexpr std::string_view kRevision = "0001";
// IEEE company identifier in the NAA designator. The logical unit's naa_id (its low 64 bits) makes it unique.
constexpr std::uint64_t kIeeeCompanyId = 0x000000;

constexpr std::uint8_t kPeripheralDirectAccess = 0x00;
constexpr std::uint8_t kPeripheralNotConnected = 0x7f;  // qualifier 011b, type 1Fh

constexpr std::uint8_t kSupportedPages[] = {0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2};

void put_padded(std::vector<std::uint8_t>& out, std::size_t offset, std::string_view text,
                std::size_t width) {
    std::fill(out.begin() + static_cast<std::ptrdiff_t>(offset),
              out.begin() + static_cast<std::ptrdiff_t>(offset + width), std::uint8_t{' '});
    std::copy_n(text.begin(), std::min(text.size(), width),
                out.begin() + static_cast<std::ptrdiff_t>(offset));
}

std::vector<std::uint8_t> standard_data(std::uint8_t peripheral) {
    std::vector<std::uint8_t> d(96, 0);
    d[0] = peripheral;
    d[2] = 0x06;         // VERSION: SPC-4
    d[3] = 0x10 | 0x02;  // HISUP, RESPONSE DATA FORMAT 2
    d[4] = static_cast<std::uint8_t>(d.size() - 5);
    d[7] = 0x02;  // CMDQUE
    put_padded(d, 8, kVendor, 8);
    put_padded(d, 16, kProduct, 16);
    put_padded(d, 32, kRevision, 4);
    constexpr std::uint16_t kVersionDescriptors[] = {0x00a0 /* SAM-5 */, 0x0960 /* iSCSI */,
                                                     0x0460 /* SPC-4 */, 0x04c0 /* SBC-3 */};
    for (std::size_t i = 0; i < std::size(kVersionDescriptors); ++i)
        store_be<std::uint16_t>(d.data() + 58 + 2 * i, kVersionDescriptors[i]);
    return d;
}

std::string serial_of(const LogicalUnitConfig& config) {
    if (!config.serial.empty()) return config.serial;
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(config.naa_id));
    return text;
}

std::vector<std::uint8_t> vpd_header(std::uint8_t page) {
    std::vector<std::uint8_t> d(4, 0);
    d[0] = kPeripheralDirectAccess;
    d[1] = page;
    return d;
}

void finish_vpd(std::vector<std::uint8_t>& d) {
    store_be<std::uint16_t>(d.data() + 2, static_cast<std::uint16_t>(d.size() - 4));
}

void append_designator(std::vector<std::uint8_t>& d, std::uint8_t code_set_protocol, std::uint8_t type_flags,
                       std::span<const std::uint8_t> value) {
    d.push_back(code_set_protocol);
    d.push_back(type_flags);
    d.push_back(0);
    d.push_back(static_cast<std::uint8_t>(value.size()));
    d.insert(d.end(), value.begin(), value.end());
}

std::vector<std::uint8_t> device_identification(const Command& c) {
    auto d = vpd_header(0x83);
    const auto& config = c.lu().config();
    // NAA IEEE Registered Extended (NAA 6): company id, then the logical unit's naa_id as the extension.
    std::uint8_t naa[16];
    store_be<std::uint64_t>(naa, (std::uint64_t{6} << 60) | (kIeeeCompanyId << 36));
    store_be<std::uint64_t>(naa + 8, config.naa_id);
    append_designator(d, 0x01 /* binary */, 0x03 /* LU, NAA */, naa);
    // T10 vendor identification: vendor id followed by the serial number.
    std::string t10(kVendor);
    t10 += serial_of(config);
    if (t10.size() > 252) t10.resize(252);
    append_designator(d, 0x02 /* ASCII */, 0x01 /* LU, T10 vendor id */,
                      {reinterpret_cast<const std::uint8_t*>(t10.data()), t10.size()});
    // Relative target port of the port this command came through (iSCSI protocol, PIV set).
    std::uint8_t port[4] = {};
    store_be<std::uint16_t>(port + 2, c.nexus.relative_target_port);
    append_designator(d, 0x51 /* iSCSI, binary */, 0x80 | 0x10 | 0x04 /* PIV, target port, relative port */,
                      port);
    finish_vpd(d);
    return d;
}

std::vector<std::uint8_t> block_limits(const Command& c) {
    auto d = vpd_header(0xb0);
    d.resize(64, 0);
    const std::uint32_t bs = c.block_size();
    const bool thin = c.geometry.thin;
    d[5] = static_cast<std::uint8_t>(BlockLimits::kMaxCompareAndWriteBlocks);
    const std::uint32_t per_physical = std::max<std::uint32_t>(1, c.geometry.physical_block_size / bs);
    store_be<std::uint16_t>(d.data() + 6, static_cast<std::uint16_t>(per_physical));
    store_be<std::uint32_t>(d.data() + 8, BlockLimits::kMaxTransferBytes / bs);
    store_be<std::uint32_t>(d.data() + 12, std::max<std::uint32_t>(per_physical, (128u << 10) / bs));
    if (thin) {
        store_be<std::uint32_t>(d.data() + 20, BlockLimits::kMaxUnmapBlocks);
        store_be<std::uint32_t>(d.data() + 24, BlockLimits::kMaxUnmapDescriptors);
        if (c.geometry.unmap_granularity_blocks != 0) {
            store_be<std::uint32_t>(d.data() + 28, c.geometry.unmap_granularity_blocks);
            store_be<std::uint32_t>(d.data() + 32, 0x80000000u);  // UGAVALID, alignment 0
        }
    }
    store_be<std::uint64_t>(d.data() + 36, BlockLimits::kMaxWriteSameBytes / bs);
    finish_vpd(d);
    return d;
}

std::vector<std::uint8_t> block_device_characteristics() {
    auto d = vpd_header(0xb1);
    d.resize(64, 0);
    store_be<std::uint16_t>(d.data() + 4, 0x0001);  // MEDIUM ROTATION RATE: non-rotating
    finish_vpd(d);
    return d;
}

std::vector<std::uint8_t> logical_block_provisioning(const Command& c) {
    auto d = vpd_header(0xb2);
    d.resize(8, 0);
    if (c.geometry.thin) {
        d[5] = 0x80 | 0x40 | 0x20 | 0x04;  // LBPU, LBPWS, LBPWS10, LBPRZ
        d[6] = 0x02;                       // PROVISIONING TYPE: thin
    }
    finish_vpd(d);
    return d;
}

std::vector<std::uint8_t> vital_product_data(const Command& c, std::uint8_t page) {
    switch (page) {
        case 0x00: {
            auto d = vpd_header(0x00);
            d.insert(d.end(), std::begin(kSupportedPages), std::end(kSupportedPages));
            finish_vpd(d);
            return d;
        }
        case 0x80: {
            auto d = vpd_header(0x80);
            const std::string serial = serial_of(c.lu().config());
            d.insert(d.end(), serial.begin(),
                     serial.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(serial.size(), 252)));
            finish_vpd(d);
            return d;
        }
        case 0x83:
            return device_identification(c);
        case 0xb0:
            return block_limits(c);
        case 0xb1:
            return block_device_characteristics();
        case 0xb2:
            return logical_block_provisioning(c);
        default:
            fail_invalid_field_in_cdb(2);
    }
}

}  // namespace

void inquiry(Command& c) {
    const auto cdb = decode_inquiry(c.cdb());
    if (c.unit == nullptr) {
        if (cdb.evpd && cdb.page_code != 0x00) fail_invalid_field_in_cdb(2);
        std::vector<std::uint8_t> d;
        if (cdb.evpd) {
            d = {kPeripheralNotConnected, 0x00, 0x00, 0x01, 0x00};
        } else {
            d = standard_data(kPeripheralNotConnected);
        }
        respond(c.task, d, cdb.allocation_length);
        return;
    }
    const auto d = cdb.evpd ? vital_product_data(c, cdb.page_code) : standard_data(kPeripheralDirectAccess);
    respond(c.task, d, cdb.allocation_length);
}

}  // namespace bootherd::scsi::handlers
