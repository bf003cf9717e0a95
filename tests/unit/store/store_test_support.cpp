#include "tests/unit/store/store_test_support.hpp"

#include <unistd.h>

#include <cstring>
#include <fstream>
#include <stdexcept>

namespace bootherd::imagestore::store::testing {

TempDir::TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "bootherd-store-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::vector<std::byte> random_bytes(std::size_t length, std::mt19937_64& rng) {
    std::vector<std::byte> bytes(length);
    for (auto& b : bytes)
        b = static_cast<std::byte>(rng() & 0xff);
    return bytes;
}

void write_raw_image(const std::filesystem::path& file, std::uint64_t size,
                     const std::vector<std::pair<std::uint64_t, std::uint64_t>>& data_ranges,
                     std::mt19937_64& rng) {
    { std::ofstream out(file, std::ios::binary | std::ios::trunc); }
    std::filesystem::resize_file(file, size);
    std::fstream out(file, std::ios::binary | std::ios::in | std::ios::out);
    for (auto [offset, length] : data_ranges) {
        auto data = random_bytes(length, rng);
        out.seekp(static_cast<std::streamoff>(offset));
        out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    }
}

std::vector<std::byte> read_all(block::BlockDevice& device) {
    std::vector<std::byte> data(device.geometry().size_bytes);
    if (auto ec = device.read(0, data)) throw std::runtime_error("read failed: " + ec.message());
    return data;
}

std::vector<std::byte> read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> bytes(chars.size());
    std::memcpy(bytes.data(), chars.data(), chars.size());
    return bytes;
}

}  // namespace bootherd::imagestore::store::testing
