// Fuzzes the PDU header parser: the BHS plus whatever AHS bytes follow, as the connection feeds them.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "target/iscsi/pdu.hpp"

using namespace bootherd::iscsi;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < kBhsSize) return 0;
    Bhs bhs;
    std::memcpy(bhs.data(), data, kBhsSize);
    const CommonHeader common = parse_common(bhs);
    const std::size_t available = size - kBhsSize;
    const std::size_t ahs_size = std::min<std::size_t>(std::size_t{common.total_ahs_words} * 4, available);
    const ParseResult result = parse_request(bhs, std::span(data + kBhsSize, ahs_size));
    if (const auto* command = std::get_if<ScsiCommand>(&result.request)) {
        // The extended CDB must lie inside the AHS we passed.
        if (!command->extended_cdb.empty() &&
            (command->extended_cdb.data() < data + kBhsSize ||
             command->extended_cdb.data() + command->extended_cdb.size() > data + kBhsSize + ahs_size))
            __builtin_trap();
        if (result.error == ParseError::none) {
            // Re-encoding a valid command reproduces its BHS fields.
            Bhs again;
            build(again, *command, common.data_segment_length);
            if (parse_request(again, {}).error != ParseError::none) __builtin_trap();
        }
    }
    (void)decode_lun(
        encode_lun(decode_lun({bhs[8], bhs[9], bhs[10], bhs[11], bhs[12], bhs[13], bhs[14], bhs[15]})));
    return 0;
}
