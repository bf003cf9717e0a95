#include "target/scsi/sense.hpp"

#include <algorithm>

#include "common/bytes.hpp"

namespace bootherd::scsi {
namespace {

// The three sense-key specific bytes holding a field pointer.
void encode_field_pointer(const FieldPointer& field, std::uint8_t* out) {
    std::uint8_t flags = 0x80;  // SKSV
    if (field.in_cdb) flags |= 0x40;
    if (field.bit) flags |= static_cast<std::uint8_t>(0x08 | (*field.bit & 0x07));
    out[0] = flags;
    store_be<std::uint16_t>(out + 1, field.byte);
}

}  // namespace

std::size_t encode_sense(const SenseData& sense, SenseFormat format, std::span<std::uint8_t> out) {
    std::fill(out.begin(), out.begin() + 32, std::uint8_t{0});
    std::uint8_t* p = out.data();
    if (format == SenseFormat::fixed) {
        p[0] = 0x70;
        p[2] = static_cast<std::uint8_t>(sense.key);
        if (sense.information) {
            p[0] |= 0x80;  // VALID
            store_be<std::uint32_t>(p + 3, static_cast<std::uint32_t>(*sense.information));
        }
        p[7] = 10;
        p[12] = sense.asc.code;
        p[13] = sense.asc.qualifier;
        if (sense.field) encode_field_pointer(*sense.field, p + 15);
        return 18;
    }
    p[0] = 0x72;
    p[1] = static_cast<std::uint8_t>(sense.key);
    p[2] = sense.asc.code;
    p[3] = sense.asc.qualifier;
    std::size_t length = 8;
    if (sense.information) {
        std::uint8_t* d = p + length;
        d[0] = 0x00;  // information descriptor
        d[1] = 0x0a;
        d[2] = 0x80;  // VALID
        store_be<std::uint64_t>(d + 4, *sense.information);
        length += 12;
    }
    if (sense.field) {
        std::uint8_t* d = p + length;
        d[0] = 0x02;  // sense key specific descriptor
        d[1] = 0x06;
        encode_field_pointer(*sense.field, d + 4);
        length += 8;
    }
    p[7] = static_cast<std::uint8_t>(length - 8);
    return length;
}

void fail(SenseKey key, Asc code) {
    throw CommandError(SenseData{key, code, std::nullopt, std::nullopt});
}

void fail_invalid_field_in_cdb(std::uint16_t byte, std::optional<std::uint8_t> bit) {
    throw CommandError(SenseData{SenseKey::illegal_request, asc::invalid_field_in_cdb, std::nullopt,
                                 FieldPointer{true, byte, bit}});
}

void fail_invalid_field_in_parameter_list(std::uint16_t byte, std::optional<std::uint8_t> bit) {
    throw CommandError(SenseData{SenseKey::illegal_request, asc::invalid_field_in_parameter_list,
                                 std::nullopt, FieldPointer{false, byte, bit}});
}

void fail_lba_out_of_range() {
    fail(SenseKey::illegal_request, asc::lba_out_of_range);
}

void fail_reservation_conflict() {
    throw CommandError::reservation_conflict();
}

void fail_miscompare(std::uint64_t offset) {
    throw CommandError(SenseData{SenseKey::miscompare, asc::miscompare_during_verify, offset, std::nullopt});
}

void set_check_condition(Task& task, const SenseData& sense, SenseFormat format) {
    task.status = Status::check_condition;
    task.sense_length = encode_sense(sense, format, task.sense);
    task.data_in_length = 0;
}

}  // namespace bootherd::scsi
