#include "target/scsi/command.hpp"

#include <algorithm>
#include <cstring>

namespace bootherd::scsi {

void Command::check_range(std::uint64_t lba, std::uint64_t blocks) const {
    const std::uint64_t count = block_count();
    if (lba > count || blocks > count - lba) fail_lba_out_of_range();
}

void respond(Task& task, std::span<const std::uint8_t> data, std::size_t allocation_length) {
    const std::size_t n = std::min(data.size(), allocation_length);
    auto out = task.data_in(n);
    if (n != 0) std::memcpy(out.data(), data.data(), n);
}

std::span<const std::uint8_t> data_out_bytes(const Task& task) {
    const auto bytes = task.data_out();
    return {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()};
}

void require_data_out(const Task& task, std::size_t needed) {
    if (task.data_out_length < needed)
        fail(SenseKey::illegal_request, asc::invalid_field_in_information_unit);
}

}  // namespace bootherd::scsi
